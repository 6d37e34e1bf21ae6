package rules

import (
	"bytes"
	"strings"
	"testing"
)

// Real-shaped snippets, reproduced from the shapes the vendors document.
var scriptTests = []struct {
	name, text, want string // want: blocked vendor for necessary-only consent
}{
	{"ga analytics.js", `(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){
(i[r].q=i[r].q||[]).push(arguments)},i[r].l=1*new Date();a=s.createElement(o),
m=s.getElementsByTagName(o)[0];a.async=1;a.src=g;m.parentNode.insertBefore(a,m)
})(window,document,'script','https://www.google-analytics.com/analytics.js','ga');
ga('create', 'UA-XXXXX-Y', 'auto');
ga('send', 'pageview');`, "google-analytics"},
	{"gtag config", `window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag("config", "G-ABC123XYZ");`, "google-analytics"},
	{"gtag config spaced", "gtag( 'config' ,\n 'G-ABC123XYZ' )", "google-analytics"},
	{"gtm container", `(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-XXXX');`, "google-analytics"},
	{"google ads conversion", `gtag('config', 'AW-123456789');`, "google-ads"},
	{"gtag with ga and ads", `gtag('config','AW-1'); gtag('config','G-2');`, "google-ads"},
	{"adsense", `(adsbygoogle = window.adsbygoogle || []).push({});`, "google-ads"},
	{"meta pixel", `!function(f,b,e,v,n,t,s)
{if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '123456789012345');
fbq('track', 'PageView');`, "facebook"},
	{"intercom", `window.intercomSettings = { api_base: "https://api-iam.intercom.io", app_id: "abc123" };
(function(){var w=window;var ic=w.Intercom;if(typeof ic==="function"){ic('reattach_activator');}else{
var d=document;var i=function(){i.c(arguments);};i.q=[];i.c=function(args){i.q.push(args);};w.Intercom=i;
var l=function(){var s=d.createElement('script');s.type='text/javascript';s.async=true;
s.src='https://widget.intercom.io/widget/' + 'abc123';var x=d.getElementsByTagName('script')[0];x.parentNode.insertBefore(s, x);};
l();}})();`, "intercom"},
	{"hotjar", `(function(h,o,t,j,a,r){
        h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};
        h._hjSettings={hjid:1234567,hjsv:6};
        a=o.getElementsByTagName('head')[0];
        r=o.createElement('script');r.async=1;
        r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;
        a.appendChild(r);
    })(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');`, "hotjar"},
	{"clarity", `(function(c,l,a,r,i,t,y){
        c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};
        t=l.createElement(r);t.async=1;t.src="https://www.clarity.ms/tag/"+i;
        y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);
    })(window, document, "clarity", "script", "abcdefghij");`, "clarity"},
	{"segment", `!function(){var analytics=window.analytics=window.analytics||[];if(!analytics.initialize)if(analytics.invoked)
window.console&&console.error&&console.error("Segment snippet included twice.");else{analytics.invoked=!0;
analytics.load=function(key,e){var t=document.createElement("script");t.type="text/javascript";t.async=!0;
t.src="https://cdn.segment.com/analytics.js/v1/" + key + "/analytics.min.js";};
analytics._writeKey="KEY";analytics.SNIPPET_VERSION="4.15.3";analytics.load("KEY");analytics.page();}}();`, "segment"},
	{"linkedin", `_linkedin_partner_id = "123"; window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];`, "linkedin-insight"},
	{"tiktok", `!function (w, d, t) { w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[]; ttq.load('ABC'); ttq.page(); }(window, document, 'ttq');`, "tiktok-pixel"},
	// Escapes and concatenation.
	{"escaped slashes", `s.src = "https:\/\/connect.facebook.net\/en_US\/fbevents.js";`, "facebook"},
	{"hex escapes", `s.src = 'https:\x2f\x2fconnect.facebook.net\x2fen_US\x2ffbevents.js';`, "facebook"},
	{"unicode escapes", `s.src = "https:\u002f\u002fconnect\u002efacebook\u002enet/x.js";`, "facebook"},
	{"code point escapes", `s.src = "https:\u{2f}\u{002F}connect.facebook.net/x.js";`, "facebook"},
	{"escaped letters", `s.src = "https://conn\x65ct.faceb\u006fok.net/x.js";`, "facebook"},
	{"concatenation", `var u = 'https://connect.' + 'facebook.net/en_US/fbevents.js';`, "facebook"},
	{"mixed quotes", "var u = \"https://connect.\"+ `facebook` +'.net/x.js';", "facebook"},
	{"concat over lines", "var u = 'https://www.google-' +\n   'analytics.com/analytics.js';", "google-analytics"},
	{"upper case", `S.SRC = "HTTPS://CONNECT.FACEBOOK.NET/X.JS"`, "facebook"},
	{"protocol-relative", `s.src='//bat.bing.com/bat.js'`, "bing-ads"},
	{"bare host", `load("snap.licdn.com/li.lms-analytics/insight.min.js")`, "linkedin-insight"},
	{"pixel path", `img.src = 'https://www.facebook.com/tr?id=' + id + '&ev=PageView';`, "facebook"},
	{"template interpolation", "s.src=`https://static.${'hot'}jar.com/c/hotjar-1.js`", "hotjar"},
	{"newline escape in path", `new Image().src='https://www.facebook.com/t\nr?id=1'`, "facebook"},
	{"backslashes for slashes", `new Image().src='https:\\www.facebook.com\\tr?id=1'`, "facebook"},
	{"many backslashes", `new Image().src='https:\\\\\\www.facebook.com\\tr?id=1'`, "facebook"},
	{"fullwidth host", `new Image().src="https://ｐｘ.ads.linkedin.com/collect/?pid=1"`, "linkedin-insight"},
	{"escaped fullwidth host", `new Image().src="https://\uff50\uff58.ads.linkedin.com/collect/?pid=1"`, "linkedin-insight"},
	{"math letters and ideographic dots", "s.src='https://connect\u3002𝐟𝐚𝐜𝐞𝐛𝐨𝐨𝐤\uff0enet/x.js'", "facebook"},
	{"soft hyphen in host", `s.src='https://connect.face\u00adbook.net/x.js'`, "facebook"},
	{"raw soft hyphen in host", "s.src='https://connect.face\u00adbook.net/x.js'", "facebook"},
	{"percent-encoded host", `new Image().src='https://%77ww.f%61cebook.com/t%72?id=1'`, "facebook"},
	// Over-read on purpose: a string that names a tracker host after a lone
	// slash is read as a URL, since a script may prepend a scheme to it.
	{"path that names a host", `fetch('/www.facebook.com/tr')`, "facebook"},
	{"html in string", `document.write('<img src=//px.ads.linkedin.com/collect/?pid=1>')`, "linkedin-insight"},
	// A run that is no URL is read from the hostname on: a script may yet
	// make one of it.
	{"host after an unparseable prefix", `var u = "a0000:q/alb.reddit.com/snta?id=1"`, "reddit-pixel"},
	{"subdomain after an unparseable prefix", `s = "x:y/px.ads.linkedin.com/collect"`, "linkedin-insight"},
	// A host followed by '@' parses as the userinfo of a URL to another
	// host; a script may yet make a host of it.
	{"host as a URL's userinfo", `r.async=1;alb.reddit.com:0000@r.src=t+h.hjid;`, "reddit-pixel"},
	{"host as userinfo, after labels no host has", "x = '\xe9.alb.reddit.com:0@r.src'", "reddit-pixel"},
	{"host as userinfo, after an unparseable prefix", `x = 'a0000:q/alb.reddit.com:0@r.src'`, "reddit-pixel"},
	{"host as userinfo of a vendor's URL", `u = "https://alb.reddit.com@connect.facebook.net/x.js"`, "facebook"},
	// A NUL is U+FFFD in a script: no host has it.
	{"NUL ending a host", "x = 0 alb.reddit.com!0\x00>", "reddit-pixel"},
	{"vendor host in a path after '@'", `u = "https://example.com/@alb.reddit.com"`, ""},
	// One slash after the scheme: a special URL's host all the same
	// (WHATWG special authority slashes state); 'https:\/' is one slash
	// in JS. FuzzFilterRules found both misread: the host as "lb.reddit.com",
	// and "t.co" inside "reddit.com" taking the run for itself.
	{"one slash after the scheme", `new Image().src='https:/alb.reddit.com/rp.gif?id=1'`, "reddit-pixel"},
	{"one escaped slash after the scheme", `new Image().src='https:\/alb.reddit.com/rp.gif?id=1'`, "reddit-pixel"},
	{"one slash after another scheme", `var u = "a0000:/alb.reddit.com/0000?0000"`, "reddit-pixel"},
	{"one slash, another vendor", `new Image().src='https:/connect.facebook.net/x.js'`, "facebook"},
	// Benign: must not be blocked.
	{"first party", `document.addEventListener('DOMContentLoaded', function () { fetch('/api/cart').then(r => r.json()); });`, ""},
	{"share link", `window.open('https://www.facebook.com/sharer/sharer.php?u=' + encodeURIComponent(location.href));`, ""},
	{"facebook page link", `a.href = "https://www.facebook.com/acme"`, ""},
	// A site's own code may use the words a vendor's snippet uses: only the
	// snippet's own shape names the vendor.
	{"first-party analytics object", `if (window.analytics && analytics.initialized) { analytics.track('cart'); }`, ""},
	{"first-party heap", `var heap = new MinHeap(); heap.load(items); heap.pop();`, ""},
	{"lookalike host", `var x = "https://notfacebook.net/x.js"; var y = 'cdn.notgoogle-analytics.com';`, ""},
	{"lookalike host after an unparseable prefix", `var x = "a:b/notfacebook.net/x.js"`, ""},
	{"host in a query", `fetch('https://api.shop.example/log?ref=connect.facebook.net')`, ""},
	{"recaptcha", `s.src = 'https://www.google.com/recaptcha/api.js?render=KEY'; grecaptcha.ready(function(){});`, ""},
	{"stripe", `var stripe = Stripe('pk_test'); s.src = "https://js.stripe.com/v3/";`, ""},
	{"consent mode default", `window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments);}
gtag('consent', 'default', {'ad_storage': 'denied', 'analytics_storage': 'denied'});`, ""},
	{"google fonts", `WebFont.load({google: {families: ['Inter']}}); l.href='https://fonts.googleapis.com/css2?family=Inter';`, "google-fonts"},
	{"accented text", `var t = "Café à côté, 東京 ｔｅｓｔ"; fetch('/api?q=%20%2F');`, ""},
	{"empty", "", ""},
	{"backslashes only", `\\\\\x\u{zz}\u12`, ""},
}

func TestScript(t *testing.T) {
	r := Default()
	p := r.NewClassifier(testPage, 0)
	for _, tt := range scriptTests {
		got := p.Script([]byte(tt.text))
		if got.Vendor != tt.want || got.Block != (tt.want != "") {
			t.Errorf("%s: Script = %+v, want %q\n normalised: %q", tt.name, got, tt.want, normalizeScript(nil, []byte(tt.text)))
		}
	}
}

// TestScriptComments: a vendor's call in a comment runs nothing; a URL in
// one still counts (code may load any URL it holds), and comment markers in
// strings and regular expressions are no comments.
func TestScriptComments(t *testing.T) {
	p := Default().NewClassifier(testPage, 0)
	for _, tt := range []struct{ text, want string }{
		{"// fbq('track', 'Purchase') once the pixel is back\nvar cart = 1;", ""},
		{"/* gtag('config', 'G-ABC123') */ initApp();", ""},
		{"<!-- fbq('init', '1')\nvar x = 1;", ""},
		{"var u = 'https://cdn.example/a.js'; // gtag('config', 'G-1')", ""},
		{"var s = '// not a comment'; fbq('init', '1');", "facebook"},
		{"var re = /\\/\\//; fbq('init', '1');", "facebook"},
		{"x = a / b; fbq('init', '1'); // c", "facebook"},
		{"var t = `/* ${a} */`; gtag('config', 'G-1');", "google-analytics"},
		{"// https://connect.facebook.net/en_US/fbevents.js", "facebook"},
	} {
		got := p.Script([]byte(tt.text))
		if got.Vendor != tt.want || got.Block != (tt.want != "") {
			t.Errorf("%q: Script = %+v, want %q", tt.text, got, tt.want)
		}
	}
}

// TestScriptMixed: a script with vendors of two denied categories is Mixed
// (defer mode strips it: a label of either category alone would revive the
// other); once one of them is granted it is not.
func TestScriptMixed(t *testing.T) {
	r := Default()
	both := []byte(`gtag('config', 'G-ABC123'); gtag('config', 'AW-123456789');`)
	if v := r.NewClassifier(testPage, 0).Script(both); !v.Block || !v.Mixed {
		t.Errorf("nothing granted: %+v, want a Mixed block", v)
	}
	if v := r.NewClassifier(testPage, Set(0).With(Analytics)).Script(both); !v.Block || v.Mixed || v.Category != "advertising" {
		t.Errorf("analytics granted: %+v, want an advertising block, not Mixed", v)
	}
	if v := r.NewClassifier(testPage, 0).Script([]byte(`gtag('config', 'G-ABC123');`)); !v.Block || v.Mixed {
		t.Errorf("one vendor: %+v, want a block, not Mixed", v)
	}
}

func TestScriptConsent(t *testing.T) {
	r := Default()
	both := []byte(`gtag('config','G-1'); fbq('init','1');`)
	for _, tt := range []struct {
		granted     Set
		block       bool
		vendor, cat string
	}{
		{0, true, "facebook", "advertising"}, // highest denied category
		{Set(0).With(Advertising), true, "google-analytics", "analytics"},
		{Set(0).With(Analytics), true, "facebook", "advertising"},
		{Set(0).With(Analytics).With(Advertising), false, "", ""},
	} {
		got := r.NewClassifier(testPage, tt.granted).Script(both)
		if got.Block != tt.block || got.Vendor != tt.vendor || got.Category != tt.cat {
			t.Errorf("granted %b: %+v", tt.granted, got)
		}
	}
}

func TestNormalizeScript(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`A\/B`, `a/b`},
		{`\x41\x4a`, `aj`},
		{`\u0041\u{1F600}`, "a\U0001F600"},
		{`"a" + 'b' + ` + "`c`", `'abc'`},
		{`'a'+b+'c'`, `'a'+b+'c'`},
		{"f( 'x' , \"y\" )", `f('x','y')`},
		{"a   b\n\nc", "a b c"},
		{`\'x\'`, `'x'`},
		{`\\x41`, `/x41`},
		{"ＡＢ\u00adｃ\u3002é東", "abc.é東"},
		{`%41%2f%7e%zz%4`, `a%2f~%zz%4`},
		{"\xff%", "\xff%"},
		{`'a\tb\nc\rd\ve'`, `'abcd e'`},
		{"`https://static.${'hot'}jar.com`", `'https://static.hotjar.com'`},
		{"`a${ 'b' + \"c\" }d`", `'abcd'`},
		{"`a${'b\\'c'}d`", `'ab'cd'`},
		{"`a${b}c`", "'a${b}c'"},
		{"`a${'b'+x}c`", "'a${'b'+x}c'"},
		{"`a${'b}c`", "'a${'b}c'"},
		{"\xff\xfeABC", "\xff\xfeabc"},
		{`\`, `\`},
	} {
		if got := string(normalizeScript(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("normalizeScript(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestScriptAllocs(t *testing.T) {
	p := Default().NewClassifier(testPage, 0)
	for _, s := range []string{firstPartyScript(), scriptTests[0].text, scriptTests[7].text} {
		b := []byte(s)
		p.Script(b)
		if n := testing.AllocsPerRun(50, func() { p.Script(b) }); n != 0 {
			t.Errorf("Script(%.30q): %v allocs", s, n)
		}
	}
}

// firstPartyScript is a typical ~2 KB first-party script.
func firstPartyScript() string {
	var b strings.Builder
	for b.Len() < 2000 {
		b.WriteString(`document.querySelectorAll('.product-card').forEach(function (card) {
  card.addEventListener('click', function (ev) {
    var id = card.getAttribute("data-id");
    fetch("/api/cart/add?id=" + encodeURIComponent(id), { method: 'POST', credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (j) { document.getElementById('cart-count').textContent = j.count; });
  });
});
`)
	}
	return b.String()
}

// TestJudgeScript: JudgeScript gives Script's verdict and leaves the
// classifier's state as it was, where Script marks it (a script read
// before any base may build relative URLs): a replay judges a script's new
// text wherever the page is, and its state must stay the recorded one.
func TestJudgeScript(t *testing.T) {
	rs := Default()
	for _, text := range []string{`var cfg={"csrf":"abc"};`, `fbq('init','1');`} {
		p := rs.NewClassifier("https://shop.example/", 0)
		before := p.AppendState(nil)
		v := p.JudgeScript([]byte(text))
		if after := p.AppendState(nil); !bytes.Equal(after, before) {
			t.Errorf("%s: state %q after JudgeScript, want %q", text, after, before)
		}
		if w := p.Script([]byte(text)); w != v {
			t.Errorf("%s: JudgeScript %+v, Script %+v", text, v, w)
		}
		if after := p.AppendState(nil); bytes.Equal(after, before) {
			t.Errorf("%s: Script left the state as it was: the test shows nothing", text)
		}
	}
}
