package rules

import "testing"

// Hydration payloads in the shapes the frameworks write them: Next.js App
// Router flight rows pushed to self.__next_f (text rows JSON-escaped in a
// string), Nuxt 2's window.__NUXT__ function (strings with \u002F for '/'),
// Remix's window.__remixContext object, Apollo's cache. The data of an
// article about trackers stays; a tracker the payload makes the client load
// (a <Script> component's src or its inline snippet, a preload hint, markup
// with an img) goes.
var payloadTests = []struct {
	name, text, want string // want: blocked vendor for necessary-only consent
}{
	{"next article quotes gtag.js and fbq(", `self.__next_f.push([1,"7:[\"$\",\"article\",null,{\"children\":[[\"$\",\"h1\",null,{\"children\":\"Setting up GA4\"}],[\"$\",\"p\",null,{\"children\":\"The tag loads https://www.googletagmanager.com/gtag/js?id=G-XXXXXXX; the Meta pixel calls fbq( on every page and needs connect.facebook.net in your CSP.\"}]]}]\n"])`, ""},
	{"next script component src", `self.__next_f.push([1,"9:[\"$\",\"$L5\",null,{\"src\":\"https://www.googletagmanager.com/gtag/js?id=G-ABC123\",\"strategy\":\"afterInteractive\"}]\n"])`, "google-analytics"},
	{"next script component snippet", `self.__next_f.push([1,"a:[\"$\",\"$L5\",null,{\"id\":\"fb-pixel\",\"strategy\":\"afterInteractive\",\"dangerouslySetInnerHTML\":{\"__html\":\"!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init','123456789012345');\"}}]\n"])`, "facebook"},
	{"next preload hint", `self.__next_f.push([1,":HL[\"https://www.googletagmanager.com/gtm.js?id=GTM-ABC1234\",\"script\"]\n"])`, "google-analytics"},
	{"next init push", `(self.__next_f=self.__next_f||[]).push([0])`, ""},
	{"nuxt article", `window.__NUXT__=(function(a,b,c){return {layout:"default",data:[{post:{title:"How the Meta pixel works",body:"It loads https:\u002F\u002Fconnect.facebook.net\u002Fen_US\u002Ffbevents.js and then calls fbq('init', id)."}}],fetch:{},error:a,serverRendered:b,config:{_app:{basePath:"\u002F",assetsPath:"\u002F_nuxt\u002F",cdnURL:a}}}}(null,true,"x"));`, ""},
	{"nuxt markup with a pixel", `window.__NUXT__=(function(a){return {data:[{html:"\u003Cp\u003EThanks!\u003C\u002Fp\u003E\u003Cimg src=\"https:\u002F\u002Fwww.facebook.com\u002Ftr?id=1&ev=Purchase\" width=1 height=1\u003E"}]}}(null));`, "facebook"},
	{"remix loader data", `window.__remixContext = {"url":"/blog/clarity","state":{"loaderData":{"routes/blog.$slug":{"title":"Microsoft Clarity review","body":"Clarity's tag (www.clarity.ms/tag/) records sessions."}}},"future":{}};`, ""},
	{"apollo cache", `window.__APOLLO_STATE__={"Post:1":{"__typename":"Post","id":"1","title":"Hotjar vs. FullStory","link":"https://static.hotjar.com/c/hotjar-123.js"}};`, ""},
	{"code still counts every mention", `var title = "The tag loads https://www.googletagmanager.com/gtag/js";`, "google-analytics"},
}

func TestPayload(t *testing.T) {
	p := Default().NewClassifier(testPage, 0)
	for _, tt := range payloadTests {
		got := p.Script([]byte(tt.text))
		if got.Vendor != tt.want || got.Block != (tt.want != "") {
			t.Errorf("%s: Script = %+v, want %q", tt.name, got, tt.want)
		}
	}
}
