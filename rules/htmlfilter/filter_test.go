package htmlfilter

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Each case: input, expected strip output, expected defer output ("=" means
// the same as strip). The toy policy blocks URLs and scripts that mention
// "tracker" (category ads) or "stats" (category analytics).
var cases = []struct {
	name, in, strip, deferred string
}{
	{"text only", `<p>Hello <b>world</b></p>`, `<p>Hello <b>world</b></p>`, "="},
	{"benign script kept", `<script src="/app.js"></script>`, `<script src="/app.js"></script>`, "="},
	{"tracker script", `a<script src="https://tracker.example/t.js"></script>b`, `ab`,
		`a<script type="text/plain" data-category="ads" data-src="https://tracker.example/t.js"></script>b`},
	{"module script", `<script type=module src=//tracker.example/m.js></script>`, ``,
		`<script type="text/plain" data-category="ads" data-type=module data-src=//tracker.example/m.js></script>`},
	{"uppercase", `<SCRIPT SRC="https://TRACKER.example/t.js"></SCRIPT>x`, `x`,
		`<SCRIPT type="text/plain" data-category="ads" data-src="https://TRACKER.example/t.js"></SCRIPT>x`},
	{"slash before attribute", `<script/src=https://tracker.example/t.js></script>x`, `x`,
		`<script type="text/plain" data-category="ads"/data-src=https://tracker.example/t.js></script>x`},
	{"inline tracker", `<script>loadTracker()</script><p>`, `<p>`,
		`<script type="text/plain" data-category="ads">loadTracker()</script><p>`},
	{"inline benign", `<script>var x = 1 < 2;</script>`, `<script>var x = 1 < 2;</script>`, "="},
	{"json-ld mentions tracker", `<script type="application/ld+json">{"sameAs":"https://tracker.example/"}</script>`,
		`<script type="application/ld+json">{"sameAs":"https://tracker.example/"}</script>`, "="},
	{"importmap lists tracker", `<script type="importmap">{"imports":{"a":"https://tracker.example/a.js"}}</script>x`, `x`, "="},
	{"script ends only at its end tag", `<script>"</scriptx>tracker"</script>y`, `y`,
		`<script type="text/plain" data-category="ads">"</scriptx>tracker"</script>y`},
	{"double escaped script", `<script><!--<script>x</script>tracker()</script>y`, `y`,
		`<script type="text/plain" data-category="ads"><!--<script>x</script>tracker()</script>y`},
	{"escaped script ends", `<script><!-- a --></script><p>tracker</p>`, `<script><!-- a --></script><p>tracker</p>`, "="},
	{"img", `<img src="https://tracker.example/p.gif" width=1>`, ``,
		`<img data-category="ads" data-src="https://tracker.example/p.gif" width=1>`},
	{"image is img", `<image src=https://tracker.example/p.gif>`, ``,
		`<image data-category="ads" data-src=https://tracker.example/p.gif>`},
	// A srcset or imagesrcset candidate, or a poster, is a side load: it
	// goes alone, with its separating comma, and the element stays.
	{"srcset", `<img src=a.png srcset="b.png 2x, https://tracker.example/c.png 3x">`, `<img src=a.png srcset="b.png 2x">`, "="},
	{"srcset with a parenthesis in a descriptor", `<img src=a.png srcset="b.png (t, https://tracker.example/c.png 3x">`, `<img src=a.png >`, "="},
	{"srcset with comma in URL", `<img srcset="a.png,https://tracker.example/c.png 2x">`, `<img >`, "="},
	{"picture source", `<picture><source srcset="https://tracker.example/a.webp"><img src=a.png></picture>`,
		`<picture><source ><img src=a.png></picture>`, "="},
	{"srcset first candidate", `<img src=a.png srcset=" https://tracker.example/c.png 1x, b.png 2x" alt=x>`, `<img src=a.png srcset=" b.png 2x" alt=x>`, "="},
	{"srcset middle candidates", `<img src=a.png srcset="a.png 1x, //tracker.example/c.png 2x,//stats.example/d.png 3x , b.png 4x">`,
		`<img src=a.png srcset="a.png 1x, b.png 4x">`, "="},
	{"srcset last candidates", `<img src=a.png srcset="a.png 1x , //tracker.example/c.png 2x, //stats.example/d.png">`,
		`<img src=a.png srcset="a.png 1x">`, "="},
	{"srcset trailing commas", `<img srcset="a.png,, //tracker.example/c.png,, b.png,">`, `<img srcset="a.png,, b.png,">`, "="},
	{"srcset trailing comma before last", `<img srcset="a.png, //tracker.example/c.png">`, `<img srcset="a.png">`, "="},
	// A browser reads "\v" as part of a URL, a script's \s as whitespace.
	{"srcset URL behind vertical tabs", "<img src=a.png srcset=\"\v\v https://tracker.example/c.png 1x, b.png 2x\">",
		`<img src=a.png srcset="b.png 2x">`, "="},
	{"srcset URL behind a no-break space", "<img src=a.png srcset=\"a.png 1x, b.png\u00a0//tracker.example/c.png 2x\">",
		`<img src=a.png srcset="a.png 1x">`, "="},
	{"srcset every candidate", `<img src=a.png srcset="//tracker.example/1.png 1x, //stats.example/2.png 2x" alt=x>`, `<img src=a.png  alt=x>`, "="},
	{"srcset unquoted", `<img src=a.png srcset=//tracker.example/c.png>`, `<img src=a.png >`, "="},
	{"srcset parenthesis hides a candidate", `<img srcset="b.png 1x, c.png (x, //tracker.example/c.png), d.png 2x">`,
		`<img srcset="b.png 1x, d.png 2x">`, "="},
	{"srcset tracker src removes the element", `<img src=//tracker.example/a.png srcset="b.png 2x">x`, `x`,
		`<img data-category="ads" data-src=//tracker.example/a.png data-srcset="b.png 2x">x`},
	{"srcset entity comma", `<img src=a.png srcset="a.png?w=1&amp;h=2 1x&#44;//tracker.example/c.png 2x">`,
		`<img src=a.png srcset="a.png?w=1&amp;h=2 1x">`, "="},
	{"srcset entity in candidate", `<img srcset="//track&#101;r.example/c.png 1x,&#32;b.png?a=1&amp;b=2 2x">`,
		`<img srcset="b.png?a=1&amp;b=2 2x">`, "="},
	// Cut out, the candidate would leave "&#44" in front of "5.png": the
	// reference "&#445" would join the two.
	{"srcset cut would join a reference", `<img src=a.png srcset="a.png 1x&#44//tracker.example/c.png 2x, 5.png 3x">`, `<img src=a.png >`, "="},
	// A browser takes the first of duplicates: with the first gone, the
	// second would load instead; after a kept first, each is still judged.
	{"srcset duplicates go with the first", `<img src=a.png srcset="//tracker.example/1.png" srcset="c.png 2x, b.png" srcset=d.png>`,
		`<img src=a.png   >`, "="},
	{"srcset duplicates each judged", `<img srcset="a.png, //tracker.example/1.png" SRCSET="//tracker.example/2.png, b.png">`,
		`<img srcset="a.png" SRCSET="b.png">`, "="},
	{"picture source candidate", `<picture><source srcset="//tracker.example/a.webp 1x, a.webp 2x" type=image/webp><img src=a.png></picture>`,
		`<picture><source srcset="a.webp 2x" type=image/webp><img src=a.png></picture>`, "="},
	{"link imagesrcset", `<link rel=preload as=image href=h.png imagesrcset="h.png 1x, //tracker.example/h2.png 2x">`,
		`<link rel=preload as=image href=h.png imagesrcset="h.png 1x">`, "="},
	{"link imagesrcset tracker href", `<link rel=preload as=image href=//tracker.example/h.png imagesrcset="h.png 1x">x`, `x`,
		`<link data-category="ads" rel=preload as=image data-href=//tracker.example/h.png data-imagesrcset="h.png 1x">x`},
	{"srcset in noscript", `<noscript><img src=a.png srcset="//tracker.example/c.png 2x, b.png"></noscript>`,
		`<noscript><img src=a.png srcset="b.png"></noscript>`, "="},
	// A srcdoc document is read, never rewritten: the frame goes.
	{"srcset in srcdoc", `<iframe srcdoc="<img src=a.png srcset='//tracker.example/c.png 2x'>"></iframe>x`, `x`,
		`<iframe data-category="ads" data-srcdoc="<img src=a.png srcset='//tracker.example/c.png 2x'>"></iframe>x`},
	{"poster", `<video src=v.mp4 poster="https://tracker.example/p.jpg" controls>x</video>`, `<video src=v.mp4  controls>x</video>`, "="},
	{"poster entity", `<video poster="https://track&#101;r.example/p.jpg"></video>`, `<video ></video>`, "="},
	{"poster duplicates", `<video poster=//tracker.example/1.jpg poster=p.jpg src=v.mp4></video>`,
		`<video   src=v.mp4></video>`, "="},
	{"poster duplicate after a kept first", `<video poster=p.jpg poster=//tracker.example/2.jpg src=v.mp4></video>`,
		`<video poster=p.jpg  src=v.mp4></video>`, "="},
	{"poster benign", `<video src=v.mp4 poster=p.jpg></video>`, `<video src=v.mp4 poster=p.jpg></video>`, "="},
	{"poster with tracker src", `<video src=//tracker.example/v.mp4 poster=p.jpg>x</video>y`, `y`,
		`<video data-category="ads" data-src=//tracker.example/v.mp4 data-poster=p.jpg>x</video>y`},
	{"iframe", `<iframe src="https://tracker.example/ns.html" height=0></iframe>x`, `x`,
		`<iframe data-category="ads" data-src="https://tracker.example/ns.html" height=0></iframe>x`},
	{"iframe body is raw text", `<iframe src=/ok><img src=https://tracker.example/></iframe>`,
		`<iframe src=/ok><img src=https://tracker.example/></iframe>`, "="},
	{"srcdoc", `<iframe srcdoc="<script src=https://tracker.example/t.js></script>"></iframe>x`, `x`,
		`<iframe data-category="ads" data-srcdoc="<script src=https://tracker.example/t.js></script>"></iframe>x`},
	{"link hints", `<link rel=preconnect href=https://tracker.example><link rel=stylesheet href=/s.css>`,
		`<link rel=stylesheet href=/s.css>`,
		`<link data-category="ads" rel=preconnect data-href=https://tracker.example><link rel=stylesheet href=/s.css>`},
	{"video whole", `<video src=https://tracker.example/v.mp4><track src=/t.vtt>Sorry</video>after`, `after`,
		`<video data-category="ads" data-src=https://tracker.example/v.mp4><track src=/t.vtt>Sorry</video>after`},
	{"nested object", `<object data=https://tracker.example/o><object data=/x></object>fallback</object>after`, `after`, "="},
	{"embed", `<embed src=https://tracker.example/e.swf>`, ``, `<embed data-category="ads" data-src=https://tracker.example/e.swf>`},
	{"svg script href", `<svg><script href="https://tracker.example/s.js"></script></svg>`, `<svg></svg>`, "="},
	{"svg image", `<svg><image href="https://tracker.example/i.png"/></svg>`, `<svg></svg>`, "="},
	{"noscript pixel", `<noscript><img height="1" src="https://tracker.example/tr?id=1"/></noscript>`, `<noscript></noscript>`, "="},
	{"noscript benign", `<noscript><img src=/fallback.png></noscript>`, `<noscript><img src=/fallback.png></noscript>`, "="},
	{"noscript end inside attribute", `<noscript><p title="</noscript><img src=https://tracker.example/x>"></p></noscript>`,
		`<noscript></p></noscript>`, "="},
	{"noscript end inside comment", `<noscript><!-- </noscript><img src=https://tracker.example/x> --></noscript>`,
		`<noscript></noscript>`, "="},
	{"comment hides nothing", `<!-- <img src=https://tracker.example/x> --><p>`, `<!-- <img src=https://tracker.example/x> --><p>`, "="},
	{"comment ends at <!-->", `<!--><img src=https://tracker.example/x>-->`, `<!-->-->`, `<!--><img data-category="ads" data-src=https://tracker.example/x>-->`},
	{"comment ends at <!--->", `<!---><img src=https://tracker.example/x>`, `<!--->`, `<!---><img data-category="ads" data-src=https://tracker.example/x>`},
	{"comment ends at --!>", `<!-- a --!><img src=https://tracker.example/x>`, `<!-- a --!>`, `<!-- a --!><img data-category="ads" data-src=https://tracker.example/x>`},
	{"duplicate attributes first wins", `<img src=/ok.png src=https://tracker.example/x>`, `<img src=/ok.png src=https://tracker.example/x>`, "="},
	{"duplicate attributes tracker first", `<img src=https://tracker.example/x src=/ok.png>`, ``,
		`<img data-category="ads" data-src=https://tracker.example/x data-src=/ok.png>`},
	{"equals sign starts a name", `<div ="><img src=https://tracker.example/x>">`, `<div =">">`,
		`<div ="><img data-category="ads" data-src=https://tracker.example/x>">`},
	{"quoted value hides tag", `<div title="<img src=https://tracker.example/x>">`, `<div title="<img src=https://tracker.example/x>">`, "="},
	{"entities decoded", `<img src="https://tracker&#46;example/x">`, ``, `<img data-category="ads" data-src="https://tracker&#46;example/x">`},
	{"named entity", `<img src="https://track&#101;r&period;example/x">`, ``, `<img data-category="ads" data-src="https://track&#101;r&period;example/x">`},
	{"lt text before removed tag", `<<script src=https://tracker.example/></script>img src=https://tracker.example/>`,
		`<<!---->img src=https://tracker.example/>`,
		`<<script type="text/plain" data-category="ads" data-src=https://tracker.example/></script>img src=https://tracker.example/>`},
	{"base href", `<base href="https://tracker.example/"><script src="t.js"></script>`, `<base href="https://tracker.example/">`,
		`<base href="https://tracker.example/"><script type="text/plain" data-category="ads" data-src="t.js"></script>`},
	{"svg style is markup", `<svg><style><img src=https://tracker.example/x></style></svg>`, `<svg></svg>`, "="},
	{"svg style benign", `<svg><style>.a{fill:red}</style></svg>`, `<svg><style>.a{fill:red}</style></svg>`, "="},
	{"html style is raw text", `<style>/* <img src=https://tracker.example/x> */</style>`, `<style>/* <img src=https://tracker.example/x> */</style>`, "="},
	{"style after svg closes", `<svg></svg><style>a>b{}</style>`, `<svg></svg><style>a>b{}</style>`, "="},
	// A browser ignores </math> inside <svg>: the style is still SVG's.
	{"svg style after stray math end", `<svg></math><style><img src=https://tracker.example/x></style></svg>`, `<svg></math></svg>`, "="},
	// Nor </desc> inside <foreignObject>: the div stays in it, </svg> is
	// ignored too, and after </foreignObject> the style is SVG's.
	{"integration point end tag mismatched", `<svg><foreignObject></desc><div></svg></div></foreignObject><style><img src=//tracker.example/x></style>`, `<svg><foreignObject></desc><div></svg></div></foreignObject>`, "="},
	{"mathml text integration point end tag mismatched", `<math><mi></mo><div></math></div></mi><style><img src=//tracker.example/x></style>`, `<math><mi></mo><div></math></div></mi>`, "="},
	{"svg in math closed in order", `<math><svg></svg></math><style>a>b{}</style>`, `<math><svg></svg></math><style>a>b{}</style>`, "="},
	{"svg style comment hides end", `<svg><style><!--</style><img src=https://tracker.example/x>--></style></svg>`, `<svg>--></style></svg>`,
		`<svg><img data-category="ads" data-src=https://tracker.example/x>--></style></svg>`},
	{"style import", `<style>@import url(https://tracker.example/a.css); b{background:url("/ok.png")}</style>`,
		`<style>@import url(""); b{background:url("/ok.png")}</style>`, "="},
	{"style string import and image", `<style>@IMPORT "//tracker.example/a.css";p{background:url( 'https://tracker.example/p.gif' )}</style>`,
		`<style>@IMPORT "";p{background:url( "" )}</style>`, "="},
	{"style css escape", `<style>p{background:u\72l(https://tracker.example/p.gif)}</style>`, `<style>p{background:url("")}</style>`, "="},
	{"style benign", `<style>p{background:url(/ok.png);color:red}</style>`, `<style>p{background:url(/ok.png);color:red}</style>`, "="},
	{"style attribute", `<div class=a style="background:url(https://tracker.example/p.gif)">x</div>`, `<div class=a >x</div>`, "="},
	{"style attribute entity paren", `<div style="background:url&lpar;https://tracker.example/p.gif)">x</div>`, `<div >x</div>`, "="},
	{"style attribute css escape", `<p style='background:u\72l(https://tracker.example/p.gif)'>x</p>`, `<p >x</p>`, "="},
	{"style attribute benign", `<div style="color:red;background:url(/ok.png)">x</div>`, `<div style="color:red;background:url(/ok.png)">x</div>`, "="},
	{"style attribute on img kept element", `<img src=/ok.png style="background:url(//tracker.example/p.gif)">`, `<img src=/ok.png >`, "="},
	{"style attribute on deferred img", `<img src=//tracker.example/a.gif style="background:url(//tracker.example/p.gif)">`, ``,
		`<img data-category="ads" data-src=//tracker.example/a.gif >`},
	{"svg cdata", `<svg><![CDATA[ > <img src=https://tracker.example/x> ]]></svg>`, `<svg></svg>`, "="},
	{"svg script benign", `<svg><script>var a=1;</script></svg>`, `<svg><script>var a=1;</script></svg>`, "="},
	{"svg script with markup", `<svg><script><!--</script><img src=https://tracker.example/x>--></script></svg>`, `<svg>--></script></svg>`,
		`<svg><img data-category="ads" data-src=https://tracker.example/x>--></script></svg>`},
	{"textarea raw", `<textarea><img src=https://tracker.example/x></textarea>`, `<textarea><img src=https://tracker.example/x></textarea>`, "="},
	{"template filtered", `<template><img src=https://tracker.example/x></template>`, `<template></template>`,
		`<template><img data-category="ads" data-src=https://tracker.example/x></template>`},
	{"analytics category", `<script src=https://stats.example/s.js></script>`, ``,
		`<script type="text/plain" data-category="analytics" data-src=https://stats.example/s.js></script>`},
	{"invalid URL stripped in defer", `<img src="bad url">x`, `x`, "="},
	{"defer drops a renamed URL its label does not cover", `<img src=https://tracker.example/a srC="bad url" src=https://stats.example/s>x`, `x`,
		`<img data-category="ads" data-src=https://tracker.example/a  >x`},
	// Inside <select> raw text is read two ways (Chromium 135+ and the rest).
	{"select style", `<select><style></select><img src=https://tracker.example/p></style></select>x`, `<select></select>x`, "="},
	{"select title", `<select><title></select><img src=https://tracker.example/p></title>x`, `<select><title></select></title>x`, "="},
	{"select benign style", `<select><style>.a{color:red}</style><option>a</option></select>`,
		`<select><style>.a{color:red}</style><option>a</option></select>`, "="},
	{"style after select", `<select></select><style></select><img src=https://tracker.example/p></style>`,
		`<select></select><style></select><img src=https://tracker.example/p></style>`, "="},
	// Parked loads: judged as the load they become. Defer keeps only what
	// is parked under its own label already.
	{"parked under its label", `<script type="text/plain" data-category="ads" data-src="https://tracker.example/t.js"></script>x`,
		`x`, `<script type="text/plain" data-category="ads" data-src="https://tracker.example/t.js"></script>x`},
	{"parked under another label", `<script type="text/plain" data-category="functional" data-src="https://tracker.example/t.js"></script>x`, `x`, "="},
	{"parked inline under another label", `<script type="text/plain" data-category="analytics">tracker()</script>x`, `x`, "="},
	{"parked inline under its label", `<script type="text/plain" data-category="ads">tracker()</script>x`, `x`,
		`<script type="text/plain" data-category="ads">tracker()</script>x`},
	{"WP Rocket delayed", `<script type="rocketlazyloadscript" data-rocket-src="https://tracker.example/t.js" defer></script>x`, `x`, "="},
	{"WP Rocket delayed inline", `<script type="rocketlazyloadscript">tracker()</script>x`, `x`, "="},
	{"LiteSpeed delayed", `<script data-src="https://tracker.example/t.js" type="litespeed/javascript"></script>x`, `x`, "="},
	{"Rocket Loader type", `<script type="9a1b2c3d4e5f6a7b8c9d0e1f-text/javascript">tracker()</script>x`, `x`, "="},
	{"Partytown inline", `<script type="text/partytown">tracker()</script>x`, `x`, "="},
	{"Flying Scripts", `<script data-type="lazy" data-src="https://tracker.example/t.js"></script>x`, `x`, "="},
	{"parked benign", `<script type="rocketlazyloadscript" data-rocket-src="/app.js"></script>`,
		`<script type="rocketlazyloadscript" data-rocket-src="/app.js"></script>`, "="},
	{"parked JSON runs nothing", `<script type="text/x-magento-init">{"*":{"tracker":{}}}</script>`,
		`<script type="text/x-magento-init">{"*":{"tracker":{}}}</script>`, "="},
	{"template", `<script type="text/x-template"><p>tracker</p></script>`, `<script type="text/x-template"><p>tracker</p></script>`, "="},
	{"lazy img keeps its placeholder", `<img src="/ph.svg" data-lazy-src="https://tracker.example/p.gif" alt=a>`,
		`<img src="/ph.svg"  alt=a>`, "="},
	{"a removed attribute before a name that starts with '='", `<img alt data-lazy-src="https://tracker.example/p.gif" ="/pa>`,
		`<img alt data-lazy-src="" ="/pa>`, "="},
	{"lazy srcset", `<img data-srcset="/a.png 1x, https://tracker.example/p.gif 2x" src=/a.png>`, `<img  src=/a.png>`, "="},
	{"lazy iframe", `<iframe data-src="https://tracker.example/ns.html" class=lazyload></iframe>x`,
		`<iframe  class=lazyload></iframe>x`, "="},
	{"lazy background", `<div class="rocket-lazyload" data-bg="url(https://tracker.example/b.png)">t</div>`,
		`<div class="rocket-lazyload" >t</div>`, "="},
	{"lazy background plain", `<section data-background-image="https://tracker.example/b.png">t</section>`,
		`<section >t</section>`, "="},
	{"lazy benign", `<img data-src="/a.png" data-bg="#fff" data-lazy=true>`, `<img data-src="/a.png" data-bg="#fff" data-lazy=true>`, "="},
	{"data attribute that holds no URL", `<div data-track="https://tracker.example/">t</div>`, `<div data-track="https://tracker.example/">t</div>`, "="},
	{"unterminated script at eof", `<p><script>tracker(`, `<p>`, `<p><script type="text/plain" data-category="ads">tracker(`},
	{"unterminated tag at eof", `<p><img src=https://tracker.example/x`, `<p>`, "="},
	{"eof lt", `a <`, `a <`, "="},
	{"plain link kept", `<a href="https://www.facebook.com/page">f</a>`, `<a href="https://www.facebook.com/page">f</a>`, "="},
	{"a ping", `<a href=/x ping="/ok https://tracker.example/p">x</a>`, `<a href=/x >x</a>`, "="},
	{"a ping benign", `<a href=/x ping=/ok>x</a>`, `<a href=/x ping=/ok>x</a>`, "="},
	{"area ping uppercase", `<AREA PING='https://tracker.example/p' href=/x>`, `<AREA  href=/x>`, "="},
	{"ping on div loads nothing", `<div ping="https://tracker.example/p">`, `<div ping="https://tracker.example/p">`, "="},
	{"duplicate ping both go", `<a ping=https://tracker.example/1 ping=https://tracker.example/2 href=/x>`, `<a   href=/x>`, "="},
	{"td background", `<table><tr><td background="https://tracker.example/bg.gif">x</td></tr></table>`,
		`<table><tr><td >x</td></tr></table>`, "="},
	{"body background entity", `<body background=https://tracker&#46;example/b.gif class=x>`, `<body  class=x>`, "="},
	{"meta refresh", `<meta http-equiv="Refresh" content="0; URL='https://tracker.example/r'"><p>`, `<p>`, "="},
	{"meta refresh bare url", `<meta content="1;https://tracker.example/r" http-equiv=refresh>`, ``, "="},
	{"meta refresh benign", `<meta http-equiv=refresh content="5; url=/next">`, `<meta http-equiv=refresh content="5; url=/next">`, "="},
	{"ping inside noscript", `<noscript><a ping=https://tracker.example/p href=/x>y</a></noscript>`,
		`<noscript><a  href=/x>y</a></noscript>`, "="},
	{"onerror handler", `<img src=/a.png onerror="loadTracker()" alt=x>`, `<img src=/a.png  alt=x>`, "="},
	// A javascript: URL followed on a click or a submit is an inline script;
	// any other URL there is a link, not a load.
	{"javascript href", `<a href="javascript:new Image().src='//tracker.example/p'">x</a>`, `<a >x</a>`, "="},
	{"javascript href encoded", `<a href=" jav&#x61;&#x09;script&colon;track('//tracker.example')">x</a>`, `<a >x</a>`, "="},
	{"javascript href benign", `<a href="javascript:void(0)">x</a>`, `<a href="javascript:void(0)">x</a>`, "="},
	{"tracker link is no load", `<a href="https://tracker.example/page">x</a>`, `<a href="https://tracker.example/page">x</a>`, "="},
	{"javascript form action", `<form action="javascript:tracker()"><button formaction="JAVASCRIPT:tracker()">b</button><input type=submit formaction="javascript:tracker()"></form>`, `<form ><button >b</button><input type=submit ></form>`, "="},
	{"svg javascript xlink:href", `<svg><a xlink:href="javascript:tracker()"><text>x</text></a></svg>`, `<svg><a ><text>x</text></a></svg>`, "="},
	{"onload on body", `<body onload='new Image().src="https://tracker.example/p"'><p>`, `<body ><p>`, "="},
	{"benign handler", `<button onclick="go()">x</button>`, `<button onclick="go()">x</button>`, "="},
	{"attribute named on", `<div on="tracker">`, `<div on="tracker">`, "="},
	{"data: html iframe base64", `<iframe src="data:text/html;base64,PHNjcmlwdCBzcmM9aHR0cHM6Ly90cmFja2VyLmV4YW1wbGUvdC5qcz48L3NjcmlwdD4="></iframe>x`, `x`,
		`<iframe data-category="ads" data-src="data:text/html;base64,PHNjcmlwdCBzcmM9aHR0cHM6Ly90cmFja2VyLmV4YW1wbGUvdC5qcz48L3NjcmlwdD4="></iframe>x`},
	{"data: html iframe fragment is not data", `<iframe src="data:text/html;base64,PHA+YTwvcD4=#PHNjcmlwdCBzcmM9aHR0cHM6Ly90cmFja2VyLmV4YW1wbGUvdC5qcz48L3NjcmlwdD4="></iframe>`,
		`<iframe src="data:text/html;base64,PHA+YTwvcD4=#PHNjcmlwdCBzcmM9aHR0cHM6Ly90cmFja2VyLmV4YW1wbGUvdC5qcz48L3NjcmlwdD4="></iframe>`, "="},
	{"data: html iframe benign", `<iframe src="data:text/html,%3Cp%3Ehi%3C/p%3E"></iframe>`, `<iframe src="data:text/html,%3Cp%3Ehi%3C/p%3E"></iframe>`, "="},
	{"meta refresh reload", `<meta http-equiv=refresh content="30">`, `<meta http-equiv=refresh content="30">`, "="},
}

func TestTable(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := map[Mode]string{Strip: c.strip, Defer: c.deferred}
			if c.deferred == "=" {
				want[Defer] = c.strip
			}
			for _, m := range []Mode{Strip, Defer} {
				got, _ := filter(c.in, m, 0)
				if got != want[m] {
					t.Errorf("%v:\n in: %s\ngot: %s\nwant %s", m, c.in, got, want[m])
				}
				for n := 1; n < len(c.in); n++ {
					if chunked, _ := filter(c.in, m, n); chunked != got {
						t.Fatalf("%v: chunks of %d give\n%s\nnot\n%s", m, n, chunked, got)
					}
				}
				if again, _ := filter(got, m, 0); again != got {
					t.Errorf("%v: not idempotent:\n%s\n%s", m, got, again)
				}
				if l := leaks(got); len(l) > 0 && m == Strip {
					t.Errorf("%v: oracle finds %v in %s", m, l, got)
				}
			}
		})
	}
}

func TestRemovedCounts(t *testing.T) {
	_, rem := filter(`<script src=//tracker.example/a></script><img src=//tracker.example/b><img src=//stats.example/c>`, Strip, 0)
	want := []Removal{{"tracker", "ads", 2}, {"stats", "analytics", 1}}
	if len(rem) != len(want) {
		t.Fatalf("got %v", rem)
	}
	for i := range want {
		if rem[i] != want[i] {
			t.Errorf("got %v want %v", rem[i], want[i])
		}
	}
}

// TestSideLoadCounts: each dropped candidate and poster counts as one
// removal of its vendor, beside the removals of whole elements.
func TestSideLoadCounts(t *testing.T) {
	in := `<img src=a.png srcset="//tracker.example/1.png 1x, //stats.example/2.png 2x, b.png 3x, //tracker.example/3.png 4x">` +
		`<video src=v.mp4 poster=//tracker.example/p.jpg></video><img src=//stats.example/c.png>`
	for _, m := range []Mode{Strip, Defer} {
		_, rem := filter(in, m, 0)
		want := []Removal{{"tracker", "ads", 3}, {"stats", "analytics", 2}}
		if len(rem) != len(want) || rem[0] != want[0] || rem[1] != want[1] {
			t.Errorf("%v: removed %v, want %v", m, rem, want)
		}
	}
}

// TestSideLoadAtTheCap: an img with a tracker candidate is trimmed as long
// as its tag fits MaxBuffer and removed for size past it, whatever the
// chunking, in both modes; the trimmed tag is a fixed point.
func TestSideLoadAtTheCap(t *testing.T) {
	const maxBuf = 1 << 10
	head, tail := `<img src=a.png srcset="//tracker.example/c.png 1x, b.png 2x" alt="`, `">b</p>`
	for _, size := range []int{maxBuf - 1, maxBuf, maxBuf + 1} {
		pad := strings.Repeat("x", size-len(head)-len(`">`)) // the tag is size bytes
		doc := "<p>a" + head + pad + tail
		want := `<p>a<img src=a.png srcset="b.png 2x" alt="` + pad + tail
		if size > maxBuf {
			want = "<p>ab</p>"
		}
		for _, m := range []Mode{Strip, Defer} {
			for _, n := range []int{0, 1, 7, 500, 1023} {
				if got, _ := filterCap(doc, m, n, maxBuf); got != want {
					t.Errorf("%v, %d-byte tag, chunks of %d: got %.80q", m, size, n, got)
				}
			}
			if again, _ := filterCap(want, m, 0, maxBuf); again != want {
				t.Errorf("%v, %d-byte tag: not idempotent: %.80q", m, size, again)
			}
		}
	}
}

func TestOversize(t *testing.T) {
	big := strings.Repeat("x", 5000)
	in := `<p>a</p><script>var s = "` + big + `";</script><p>b</p><img alt="` + big + `" src=/ok.png><div title="` + big + `">c</div>`
	got, rem := filter(in, Strip, 0)
	// The script is streamed (TestLongScript); the img's tag outgrew the cap.
	want := `<p>a</p><script>var s = "` + big + `";</script><p>b</p><div title="` + big + `">c</div>`
	if got != want {
		t.Errorf("got %.200s", got)
	}
	if len(rem) != 1 || rem[0].Vendor != VendorOversize || rem[0].Count != 1 {
		t.Errorf("removed %v", rem)
	}
	for _, n := range []int{1, 7, 1000} {
		if chunked, _ := filter(in, Strip, n); chunked != got {
			t.Errorf("chunks of %d differ", n)
		}
	}
}

// TestLongScript: a script longer than MaxBuffer (1 KiB here: windows of
// 512 bytes reading 256 beyond) is streamed window by window and cut at the
// first window in which something denied is found.
func TestLongScript(t *testing.T) {
	text := func(at int, what string) string {
		b := []byte(strings.Repeat("x", 5000))
		if what != "" {
			copy(b[at:], what)
		}
		return string(b)
	}
	for _, c := range []struct {
		name, tag, text string
		cut             int // bytes of text kept; -1: all
		vendor          string
	}{
		{"clean", `<script>`, text(0, ""), -1, ""},
		{"tracker", `<script>`, text(3000, "tracker"), 2560, "tracker"},
		{"tracker across a window's end", `<script>`, text(2555, "tracker"), 2048, "tracker"},
		{"tracker first", `<script>`, text(10, "tracker"), 0, "tracker"},
		{"tracker last", `<script>`, text(4990, "tracker"), 4608, "tracker"},
		{"escape", `<script>`, text(3000, "<!--"), 2560, VendorOversize},
		{"handler", `<script onload="tracker()">`, text(0, ""), -1, "tracker"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := `<p>a</p>` + c.tag + c.text + `</script><p>b</p>`
			tag := c.tag
			if c.name == "handler" {
				tag = `<script >`
			}
			want := `<p>a</p>` + tag + c.text + `</script><p>b</p>`
			switch {
			case c.cut == 0:
				want = `<p>a</p><p>b</p>`
			case c.cut > 0:
				want = `<p>a</p>` + tag + c.text[:c.cut] + `</script><p>b</p>`
			}
			for _, m := range []Mode{Strip, Defer} {
				got, rem := filter(in, m, 0)
				if got != want {
					t.Errorf("%v: got %d bytes, want %d:\n%.120q", m, len(got), len(want), got[max(0, min(len(got), len(want)-40)):])
				}
				if c.vendor == "" && len(rem) != 0 || c.vendor != "" && (len(rem) != 1 || rem[0].Vendor != c.vendor) {
					t.Errorf("%v: removed %v", m, rem)
				}
				for _, n := range []int{1, 7, 300, 1000} {
					if chunked, _ := filter(in, m, n); chunked != got {
						t.Errorf("%v: chunks of %d differ", m, n)
					}
				}
				if again, _ := filter(got, m, 0); again != got {
					t.Errorf("%v: not idempotent", m)
				}
			}
		})
	}
}

func TestWriteErrorSticks(t *testing.T) {
	f := New(failWriter{}, &toy{}, Options{})
	if _, err := f.Write([]byte("<p>x</p>")); err == nil {
		t.Fatal("want error")
	}
	if _, err := f.Write([]byte("<p>y</p>")); err == nil {
		t.Fatal("want sticky error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errTest }

var errTest = &testError{}

type testError struct{}

func (*testError) Error() string { return "test" }

// FuzzFilter: never panics; output independent of chunking; filtering is
// idempotent; and the oracle finds nothing blocked in the output.
func FuzzFilter(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in, uint64(1))
	}
	f.Add(`<svg><foreignObject><div></svg><style><img src=https://tracker.example/x></style>`, uint64(7))
	f.Add(`<noscript><style></noscript><img src=https://tracker.example/x></style>`, uint64(3))
	f.Add(`<math><mi><select><textarea></math><img src=//tracker.example/></textarea>`, uint64(5))
	f.Fuzz(func(t *testing.T, doc string, seed uint64) {
		if len(doc) > 4096 {
			return
		}
		tm := time.AfterFunc(3*time.Second, func() { panic(fmt.Sprintf("hang on %q seed %d", doc, seed)) })
		defer tm.Stop()
		for _, m := range []Mode{Strip, Defer} {
			one, _ := filter(doc, m, 0)
			r := rand.New(rand.NewPCG(seed, 1))
			var out bytes.Buffer
			fl := New(&out, &toy{}, Options{Mode: m, MaxBuffer: 1 << 10})
			for b := []byte(doc); len(b) > 0; {
				n := min(1+r.IntN(16), len(b))
				fl.Write(b[:n])
				b = b[n:]
			}
			fl.Close()
			if out.String() != one {
				t.Fatalf("%v: chunking changes output:\n%q\n%q", m, one, out.String())
			}
			// Deferring lengthens a tag (data-category, data- prefixes):
			// one kept just under the cap may come out over it, and a
			// second filter with the same cap would remove it for size.
			if again, _ := filterCap(one, m, 0, 1<<10+len(one)); again != one {
				t.Fatalf("%v: not idempotent:\n%q\n%q", m, one, again)
			}
			if l := leaks(one); len(l) > 0 {
				t.Fatalf("%v: %q\nleaks %v", m, one, l)
			}
		}
	})
}

func TestPermissivePassesThrough(t *testing.T) {
	in := `<noscript><p title="</noscript><img src=https://tracker.example/x>"></p></noscript><script src=//tracker.example/t.js></script>`
	var out bytes.Buffer
	f := New(&out, &toy{all: true}, Options{})
	f.Write([]byte(in))
	f.Close()
	if out.String() != in || len(f.Removed()) != 0 {
		t.Errorf("got %s", out.String())
	}
}

func TestCharRef(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a&amp;b", "a&b"},
		{"a&ampb", "a&ampb"}, // prefix match followed by an alphanumeric: literal in attributes
		{"a&amp=b", "a&amp=b"},
		{"a&amp b", "a& b"},
		{"?x=1&Ver=2", "?x=1&Ver=2"},
		{"&period;&colon;&sol;", ".:/"},
		{"&#46;&#x2F;&#X2f", ".//"},
		{"&#0000104;&#104", "hh"},
		{"&#0;&#x110000;&#xD800;", "\uFFFD\uFFFD\uFFFD"},
		{"&#x80;&#x9F;", "\u20AC\u0178"},
		{"&#;&#x;&", "&#;&#x;&"},
		{"&notit;", "&notit;"},
		{"&copy", "\u00a9"},
		{"a\x00b", "a\uFFFDb"},
	} {
		f := New(nil, &toy{}, Options{})
		if got := string(f.decode([]byte(c.in))); got != c.want {
			t.Errorf("decode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestOversizeCDATA: a CDATA section (where foreign content is possible)
// that outgrows the cap is removed whole, and its end is still found
// however the document is chunked.
func TestOversizeCDATA(t *testing.T) {
	in := "<svg><![CDATA[" + strings.Repeat("x", 3000) + "]]><p>after</p></svg>"
	want := "<svg><p>after</p></svg>"
	for _, n := range []int{0, 1, 2, 3, 7, 1000} {
		if got, _ := filter(in, Strip, n); got != want {
			t.Errorf("chunks of %d: %q", n, got)
		}
	}
}

// writeCounter counts the writes it gets: those over 4 KiB cost a system
// call each behind net/http's buffer, smaller ones share one.
type writeCounter struct {
	bytes.Buffer
	writes, large int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	if len(p) > 4<<10 {
		w.large++
	}
	return w.Buffer.Write(p)
}

// TestBuffersStaySmall: what a filter keeps between writes is the
// undecided tail, bounded by tailPiece, and the output it gathers between
// removals stays within maxOut; never a copy of the writes (constant memory
// per response, whatever the page); and a write in which nothing is
// removed leaves in one write, in place.
func TestBuffersStaySmall(t *testing.T) {
	var page strings.Builder
	for i := 0; page.Len() < 1<<20; i++ {
		fmt.Fprintf(&page, `<div class="card"><a href="/p/%d/"><img src="/i/%d.jpg" alt="p"></a><p>text %d</p></div>`+"\n", i, i, i)
		if i%50 == 49 {
			page.WriteString(`<img src="https://tracker.example/px"><script src="https://tracker.example/t.js"></script>` + "\n")
		}
	}
	doc := []byte(page.String())
	var out writeCounter
	f := New(&out, &toy{}, Options{})
	const chunk = 32 << 10
	maxBuf, maxOutCap := 0, 0
	for b := doc; len(b) > 0; {
		n := min(chunk, len(b))
		f.Write(b[:n])
		b = b[n:]
		maxBuf, maxOutCap = max(maxBuf, cap(f.buf)), max(maxOutCap, cap(f.out))
	}
	f.Close()
	if len(f.Removed()) == 0 || strings.Contains(out.String(), "tracker.example") {
		t.Fatalf("removed %v", f.Removed())
	}
	t.Logf("%d bytes in %d writes of %d: %d writes out, %d of them over 4 KiB; buf %d, out %d bytes at most",
		len(doc), (len(doc)+chunk-1)/chunk, chunk, out.writes, out.large, maxBuf, maxOutCap)
	if maxBuf > 4<<10 {
		t.Errorf("buf grew to %d bytes: it copies writes, not the tail", maxBuf)
	}
	if maxOutCap > 2*maxOut {
		t.Errorf("out grew to %d bytes, bound %d", maxOutCap, maxOut)
	}

	// Nothing removed: each write leaves in one large write (and at most
	// a small one, what decided the tail the last write left).
	out = writeCounter{}
	f.Reset(&out, &toy{}, Options{})
	clean := bytes.ReplaceAll(doc, []byte("tracker.example"), []byte("cdn.example"))
	writes := 0
	for b := clean; len(b) > 0; {
		n := min(chunk, len(b))
		f.Write(b[:n])
		b = b[n:]
		writes++
	}
	f.Close()
	if out.String() != string(clean) || out.large > writes {
		t.Errorf("a clean page of %d writes left in %d writes over 4 KiB (equal: %v)", writes, out.large, out.String() == string(clean))
	}
}

// gatheringSink checks, at each write the filter makes, that the filter
// holds an array for its gathered output only while writing that output.
type gatheringSink struct {
	f                    *Filter
	writes, held, maxCap int
	bytes.Buffer
}

func (s *gatheringSink) Write(p []byte) (int, error) {
	s.writes++
	s.maxCap = max(s.maxCap, cap(s.f.out))
	own := len(p) > 0 && cap(s.f.out) > 0 && &p[0] == &s.f.out[:1][0]
	if cap(s.f.out) > 0 && !own {
		s.held++
	}
	return s.Buffer.Write(p)
}

// TestGatheringReleased: a response whose client reads slowly waits in the
// filter's writes. The array the filter gathers output in between removals
// (maxOut) must not wait with it: the filter holds it while it gathers and
// while it writes it, not while it writes a run in place, nor between two
// Writes (the heap of a proxy with a thousand slow clients held 8 KiB per
// response in it).
func TestGatheringReleased(t *testing.T) {
	var page strings.Builder
	for i := 0; page.Len() < 256<<10; i++ {
		fmt.Fprintf(&page, `<div class="card"><a href="/p/%d/"><img src="/i/%d.jpg" alt="p"></a><p>text %d</p></div>`+"\n", i, i, i)
		if i%50 == 49 {
			page.WriteString(`<img src="https://tracker.example/px">` + "\n" + `<script src="https://tracker.example/t.js"></script>` + "\n")
		}
	}
	doc := []byte(page.String())
	for _, mode := range []Mode{Strip, Defer} {
		sink := &gatheringSink{}
		f := New(sink, &toy{}, Options{Mode: mode})
		sink.f = f
		between := 0
		for b := doc; len(b) > 0; {
			n := min(32<<10, len(b))
			f.Write(b[:n])
			b = b[n:]
			if cap(f.out) > 0 {
				between++
			}
		}
		f.Close()
		if len(f.Removed()) == 0 {
			t.Fatalf("%v: nothing removed", mode)
		}
		if sink.held > 0 || between > 0 {
			t.Errorf("%v: the gathering array was held in %d of %d writes not its own, and after %d Writes",
				mode, sink.held, sink.writes, between)
		}
		if sink.maxCap == 0 || sink.maxCap > 2*maxOut {
			t.Errorf("%v: gathering array of %d bytes, bound %d", mode, sink.maxCap, maxOut)
		}
	}
}

// TestWatchedAttributeAtTheCap: a handler of about MaxBuffer bytes is kept
// or removed alike in one write and cut at any byte, with or without a
// value and whatever space follows its name; an oversized one with a value
// never survives, and a name as long that is not watched always does.
func TestWatchedAttributeAtTheCap(t *testing.T) {
	const maxBuf = 1 << 10
	for n := maxBuf - 3; n <= maxBuf+1; n++ {
		for _, name := range []string{"on" + strings.Repeat("x", n-2), "da" + strings.Repeat("x", n-2)} {
			for _, sp := range []string{"", " ", "   "} {
				for _, rest := range []string{" id=a>", "=v>", "='tracker'>", ">", "/>"} {
					doc := "<p>a<b " + name + sp + rest + "b</b>"
					one, _ := filter(doc, Strip, 0)
					kept := strings.Contains(one, name)
					if name[0] == 'd' {
						if !kept {
							t.Errorf("a %d-byte name that loads nothing removed", n)
						}
					} else if size := n + len(sp); size > maxBuf && kept {
						t.Errorf("%d-byte handler (with its spaces %d) kept: %q", n, size, one[:20])
					}
					if rest == "='tracker'>" && kept && name[0] == 'o' {
						t.Errorf("%d-byte tracker handler kept", n)
					}
					if !strings.Contains(one, "b</b>") {
						t.Errorf("%q: the text after the tag is gone", one)
					}
					for cut := 1; cut < len(doc); cut++ {
						var out bytes.Buffer
						f := New(&out, &toy{}, Options{Mode: Strip, MaxBuffer: maxBuf})
						f.Write([]byte(doc[:cut]))
						f.Write([]byte(doc[cut:]))
						f.Close()
						if out.String() != one {
							t.Fatalf("name %d, spaces %q, %q: cut at %d gives\n%q\nnot\n%q", n, sp, rest, cut, out.String(), one)
						}
					}
				}
			}
		}
	}
}

// TestForeignContextLeaks: markup that leaves a browser in SVG or MathML
// where a filter could believe it back in HTML (stray end tags, HTML
// integration points, breakouts) lets no tracker through, as the oracle (a
// browser's parse of the output) sees it.
func TestForeignContextLeaks(t *testing.T) {
	for _, in := range []string{
		`<svg><title><div></svg></div></title><style><img src=//tracker.example/x></style>`,
		`<svg></math><style><img src=//tracker.example/x></style>`,
		`<svg><foreignObject><title></svg></title></foreignObject><style><img src=//tracker.example/x></style>`,
		`<svg><foreignObject><desc></svg></desc></foreignObject><style><img src=//tracker.example/x></style>`,
		`<svg><foreignObject><desc/></svg></desc></foreignObject><style><img src=//tracker.example/x></style>`,
		`<math><mi><mo></math></mo></mi><style><img src=//tracker.example/x></style>`,
		`<svg><foreignObject></desc><div></svg></div></foreignObject><style><img src=//tracker.example/x></style>`,
		`<math><mi></mo><div></math></div></mi><style><img src=//tracker.example/x></style>`,
		`<math><annotation-xml encoding="text/html"><div></math></div></annotation-xml><style><img src=//tracker.example/x></style>`,
		`<svg><desc><div></svg></div></desc><style><img src=//tracker.example/x></style>`,
		`<svg><p></svg></p><style><img src=//tracker.example/x></style>`,
		`<svg></p><style><img src=//tracker.example/x></style>`,
		`<svg><title></svg><style><img src=//tracker.example/x></style>`,
		`<table><svg></table><style><img src=//tracker.example/x></style>`,
		`<svg><font color=red></svg><style><img src=//tracker.example/x></style>`,
		`<math><mglyph><style><img src=//tracker.example/x></style>`,
		`<math><mi><mglyph><style><img src=//tracker.example/x></style>`,
		`<svg><![CDATA[</svg>]]><style><img src=//tracker.example/x></style>`,
		`<svg><!--</svg>--><style><img src=//tracker.example/x></style>`,
		`<select><svg></select><style><img src=//tracker.example/x></style>`,
		`<svg><foreignObject><svg></svg></foreignObject><style><img src=//tracker.example/x></style>`,
		`<svg><desc><svg><desc></desc></svg></desc><style><img src=//tracker.example/x></style>`,
		`<math><mi><svg></svg></mi><style><img src=//tracker.example/x></style>`,
		`<svg><a><style><img src=//tracker.example/x></style>`,
		`<svg><script><img src=//tracker.example/x></script>`,
		`<svg><noscript></svg><style><img src=//tracker.example/x></style>`,
		`<noscript><svg></noscript><style><img src=//tracker.example/x></style>`,
		`<template><svg></template><style><img src=//tracker.example/x></style>`,
	} {
		for _, m := range []Mode{Strip, Defer} {
			out, _ := filter(in, m, 0)
			if l := leaks(out); len(l) > 0 {
				t.Errorf("%v %s\n%s\nleaks %v", m, in, out, l)
			}
		}
	}
}

func TestJavascriptURL(t *testing.T) {
	for _, c := range []struct {
		u          string
		refs, want bool
	}{
		{"javascript:x()", false, true},
		{" \x01JavaScript:x()", false, true},
		{"java\tscr\nipt:x()", false, true},
		{"javascript\x1ax()", false, false},
		{"javascripts:x()", false, false},
		{"javascript", false, false},
		{"/javascript:x()", false, false},
		{"#top", true, false},
		{"jav&#x61;script:x()", true, true},
		{"jav&#x61;script:x()", false, false},
		{"", true, false},
	} {
		if got := javascriptURL([]byte(c.u), c.refs); got != c.want {
			t.Errorf("javascriptURL(%q, %v) = %v", c.u, c.refs, got)
		}
	}
}
