package main

import (
	"bytes"
	"fmt"
	"strings"
)

// buildLanding is a marketing site's home page of about 120 KB, made up
// like the real ones: a head of meta tags, preloads, the vendors' tags as
// they publish them and inline JSON; a mega menu, a hero with an inline
// SVG, feature cards with SVG icons, testimonials, pricing, articles, a
// FAQ, a footer of links; and the framework's page state as JSON at the
// end. Many short tags, few of them trackers. Everything is a function of
// the loop indices: the same bytes on every run.
func buildLanding(s landingSnippets) []byte {
	var b bytes.Buffer
	landingHead(&b, s)
	b.WriteString("<body class=\"home\">\n" + s.gtmNoscript + "\n")
	landingNav(&b)
	landingMain(&b)
	landingFooter(&b)
	landingState(&b)
	b.WriteString(s.uetNoscript + "\n")
	b.WriteString(`<script nonce="{{nonce}}" src="/_next/static/chunks/main-4f7c2a.js" defer></script>
<script nonce="{{nonce}}" src="/_next/static/chunks/pages/index-91b3e0.js" defer></script>
</body></html>
`)
	return b.Bytes()
}

var words = strings.Fields(`cloud teams ship faster secure data platform analytics insight workflow
automate scale global edge reliable simple pricing developer friendly integrate hundreds tools
real-time dashboards collaborate anywhere privacy compliance built trusted thousands companies`)

// phrase is n words from the list, starting at i.
func phrase(i, n int) string {
	out := make([]string, n)
	for k := range out {
		out[k] = words[(i*7+k*3)%len(words)]
	}
	return strings.Join(out, " ")
}

func landingHead(b *bytes.Buffer, s landingSnippets) {
	b.WriteString(`<!DOCTYPE html>
<html lang="en" dir="ltr"><head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Cloud: the data platform for teams that ship</title>
<meta name="description" content="Northwind Cloud brings your data, dashboards and workflows together. Trusted by 12,000 teams.">
<meta name="csrf-token" content="{{csrf}}">
<link rel="canonical" href="https://www.northwind.example/">
`)
	for _, p := range []string{"title", "description", "image", "url", "type", "site_name", "locale"} {
		fmt.Fprintf(b, "<meta property=\"og:%s\" content=\"Northwind Cloud %s\">\n", p, p)
	}
	for _, p := range []string{"card", "site", "title", "description", "image"} {
		fmt.Fprintf(b, "<meta name=\"twitter:%s\" content=\"northwind %s\">\n", p, p)
	}
	for _, l := range []string{"en", "de", "fr", "es", "it", "nl", "ja", "pt-br"} {
		fmt.Fprintf(b, "<link rel=\"alternate\" hreflang=\"%s\" href=\"https://www.northwind.example/%s/\">\n", l, l)
	}
	for _, h := range []string{"fonts.gstatic.com", "cdn.northwind.example", "images.northwind.example"} {
		fmt.Fprintf(b, "<link rel=\"preconnect\" href=\"https://%s\" crossorigin>\n", h)
	}
	for i, w := range []string{"400", "600", "700"} {
		fmt.Fprintf(b, "<link rel=\"preload\" href=\"/fonts/inter-%s.woff2\" as=\"font\" type=\"font/woff2\" crossorigin data-i=\"%d\">\n", w, i)
	}
	b.WriteString(`<link rel="icon" href="/favicon.ico" sizes="any"><link rel="icon" href="/icon.svg" type="image/svg+xml"><link rel="apple-touch-icon" href="/apple-touch-icon.png">
<link rel="stylesheet" href="/_next/static/css/app-3e1f.css"><link rel="stylesheet" href="/_next/static/css/home-a91c.css">
`)
	b.WriteString("<style>")
	for i := range 40 {
		fmt.Fprintf(b, ".c%d{display:flex;gap:%dpx;padding:%dpx %dpx;color:#%06x}", i, i%16, i%24, i%32, i*40503%0xffffff)
	}
	b.WriteString("</style>\n")
	b.WriteString(s.gtm + "\n" + s.gtag + "\n" + s.uet + "\n" + s.linkedIn + "\n")
	b.WriteString(`<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","name":"Northwind Cloud","url":"https://www.northwind.example/","logo":"https://www.northwind.example/logo.png","sameAs":[`)
	for i, n := range []string{"linkedin.com/company/northwind", "x.com/northwind", "github.com/northwind", "youtube.com/@northwind"} {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(b, `"https://www.%s"`, n)
	}
	b.WriteString(`],"contactPoint":{"@type":"ContactPoint","telephone":"+1-555-0100","contactType":"sales"}}</script>
<script nonce="{{nonce}}">window.__CONFIG__={"env":"production","release":"2026.11.3","locale":"en","features":{"newNav":true,"pricingV2":true,"chat":false},"csrf":"{{csrf}}"};</script>
</head>
`)
}

func landingNav(b *bytes.Buffer) {
	b.WriteString(`<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header c1"><a class="logo" href="/" aria-label="Northwind Cloud home">`)
	landingSVG(b, 0, 12)
	b.WriteString("</a>\n<nav class=\"mega-nav\" aria-label=\"Main\"><ul class=\"mega-nav__list\">\n")
	for m, menu := range []string{"Product", "Solutions", "Customers", "Developers", "Resources", "Company"} {
		fmt.Fprintf(b, "<li class=\"mega-nav__item\"><button class=\"mega-nav__toggle\" type=\"button\" aria-expanded=\"false\" aria-controls=\"menu-%d\">%s</button>\n<div class=\"mega-nav__panel\" id=\"menu-%d\" hidden>", m, menu, m)
		for c := range 3 {
			fmt.Fprintf(b, "<div class=\"mega-nav__col\"><p class=\"mega-nav__heading\">%s</p><ul>", phrase(m*3+c, 2))
			for l := range 7 {
				n := m*21 + c*7 + l
				fmt.Fprintf(b, "<li><a href=\"/%s/%d/\"><span class=\"t\">%s</span><span class=\"d\">%s</span></a></li>", strings.ToLower(menu), n, phrase(n, 2), phrase(n+1, 5))
			}
			b.WriteString("</ul></div>")
		}
		b.WriteString("</div></li>\n")
	}
	b.WriteString(`</ul></nav>
<div class="header-actions"><a class="btn btn--ghost" href="/login">Sign in</a><a class="btn btn--primary" href="/signup">Start free</a><a class="cart" href="/account/cart" aria-label="Cart"><span class="cart-count">{{cart}}</span></a></div>
</header>
`)
}

// landingSVG is an inline SVG of n shapes, varied by i.
func landingSVG(b *bytes.Buffer, i, n int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="%d" height="%d" aria-hidden="true" focusable="false">`, 24+i%3*8, 24+i%3*8)
	for k := range n {
		x, y := (i*13+k*7)%64, (i*5+k*11)%64
		if k%3 == 0 {
			fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="%d" fill="currentColor" opacity=".%d"/>`, x, y, 2+k%5, 3+k%6)
		} else {
			fmt.Fprintf(b, `<path d="M%d %dl%d %dc%d %d %d %d %d %dz" fill="none" stroke="currentColor" stroke-width="2"/>`, x, y, k%9, 12-k%7, k, k+2, 8-k, 4, 10, k%5)
		}
	}
	b.WriteString("</svg>")
}

func landingMain(b *bytes.Buffer) {
	b.WriteString(`<main id="main">
<section class="hero c2"><div class="hero__text"><p class="eyebrow">New: real-time pipelines</p><h1>The data platform for teams that ship</h1>
<p class="lead">Bring your data, dashboards and workflows together, and keep them private by design.</p>
<div class="hero__cta"><a class="btn btn--primary btn--lg" href="/signup">Start for free</a><a class="btn btn--ghost btn--lg" href="/demo">Book a demo</a></div></div>
<div class="hero__art">`)
	landingSVG(b, 7, 40)
	b.WriteString("</div></section>\n<section class=\"logos\"><p>Trusted by 12,000 teams</p><ul class=\"logos__list\">")
	for i := range 16 {
		fmt.Fprintf(b, `<li><img src="/img/logos/customer-%02d.svg" alt="Customer %d" width="120" height="40" loading="lazy"></li>`, i, i)
	}
	b.WriteString("</ul></section>\n<section class=\"features\"><h2>Everything in one place</h2><div class=\"grid grid--3\">\n")
	for i := range 12 {
		fmt.Fprintf(b, `<article class="feature c%d"><div class="feature__icon">`, i%40)
		landingSVG(b, i, 6)
		fmt.Fprintf(b, "</div><h3>%s</h3><p>%s. %s.</p><a class=\"link-arrow\" href=\"/product/%d\">Learn more <span aria-hidden=\"true\">&rarr;</span></a></article>\n", phrase(i, 3), phrase(i+2, 14), phrase(i+5, 10), i)
	}
	b.WriteString("</div></section>\n<section class=\"stats\"><dl>")
	for i, s := range []string{"99.99% uptime", "12,000 teams", "40 regions", "2.1B events a day"} {
		fmt.Fprintf(b, "<div class=\"stat\"><dt>%s</dt><dd>%s</dd></div>", s, phrase(i, 4))
	}
	b.WriteString("</dl></section>\n<section class=\"testimonials\"><h2>What our customers say</h2>\n")
	for i := range 8 {
		fmt.Fprintf(b, `<figure class="testimonial"><blockquote><p>&ldquo;%s. %s.&rdquo;</p></blockquote><figcaption><picture><source srcset="/img/people/%d.avif" type="image/avif"><source srcset="/img/people/%d.webp" type="image/webp"><img src="/img/people/%d.jpg" alt="" width="48" height="48" loading="lazy"></picture><span class="name">Person %d</span><span class="role">Head of data, Company %d</span></figcaption></figure>
`, phrase(i, 16), phrase(i+3, 12), i, i, i, i, i)
	}
	landingPricing(b)
	landingArticles(b)
	b.WriteString(`<section class="newsletter"><h2>Stay in the loop</h2><form action="/newsletter" method="post"><input type="hidden" name="authenticity_token" value="{{csrf}}"><label for="email">Work email</label><input id="email" name="email" type="email" autocomplete="email" required><button class="btn btn--primary" type="submit">Subscribe</button></form></section>
</main>
`)
}

func landingPricing(b *bytes.Buffer) {
	b.WriteString("<section class=\"pricing\" id=\"pricing\"><h2>Simple pricing</h2><div class=\"grid grid--3\">\n")
	for t, tier := range []string{"Starter", "Team", "Enterprise"} {
		fmt.Fprintf(b, "<div class=\"tier tier--%d\"><h3>%s</h3><p class=\"price\"><span class=\"amount\">$%d</span><span class=\"per\">/ seat / month</span></p><ul class=\"tier__features\">", t, tier, t*20+9)
		for f := range 12 {
			b.WriteString("<li>")
			landingSVG(b, f, 2)
			fmt.Fprintf(b, "<span>%s</span></li>", phrase(t*12+f, 4))
		}
		fmt.Fprintf(b, "</ul><a class=\"btn\" href=\"/signup?plan=%s\">Choose %s</a></div>\n", strings.ToLower(tier), tier)
	}
	b.WriteString("</div></section>\n")
}

func landingArticles(b *bytes.Buffer) {
	b.WriteString("<section class=\"articles\"><h2>From the blog</h2><div class=\"grid grid--3\">\n")
	for i := range 9 {
		fmt.Fprintf(b, "<article class=\"card\"><a href=\"/blog/post-%d\"><img src=\"/img/blog/%d.jpg\" alt=\"\" width=\"400\" height=\"225\" loading=\"lazy\"><p class=\"tag\">%s</p><h3>%s</h3><p>%s.</p><time datetime=\"2026-11-%02d\">November %d, 2026</time></a></article>\n", i, i, phrase(i, 1), phrase(i+1, 7), phrase(i+4, 18), i+1, i+1)
	}
	b.WriteString("</div></section>\n<section class=\"faq\"><h2>Questions</h2>\n")
	for i := range 12 {
		fmt.Fprintf(b, "<details><summary>%s?</summary><p>%s. %s. <a href=\"/docs/faq#q%d\">Read more</a>.</p></details>\n", phrase(i, 6), phrase(i+1, 18), phrase(i+2, 12), i)
	}
	b.WriteString("</section>\n")
}

func landingFooter(b *bytes.Buffer) {
	b.WriteString("<footer class=\"site-footer\"><div class=\"footer__cols\">\n")
	for c, col := range []string{"Product", "Solutions", "Developers", "Resources", "Company", "Legal"} {
		fmt.Fprintf(b, "<div class=\"footer__col\"><h4>%s</h4><ul>", col)
		for l := range 10 {
			fmt.Fprintf(b, "<li><a href=\"/%s/%d\">%s</a></li>", strings.ToLower(col), l, phrase(c*10+l, 2))
		}
		b.WriteString("</ul></div>\n")
	}
	b.WriteString("</div><ul class=\"social\">")
	for i, n := range []string{"LinkedIn", "X", "GitHub", "YouTube", "Mastodon"} {
		fmt.Fprintf(b, "<li><a href=\"https://social.example/%d\" aria-label=\"%s\">", i, n)
		landingSVG(b, i+20, 5)
		b.WriteString("</a></li>")
	}
	b.WriteString(`</ul><p class="legal">&copy; 2026 Northwind Cloud, Inc. <a href="/privacy">Privacy</a> <a href="/terms">Terms</a> <a href="/cookies">Cookie settings</a></p></footer>
`)
}

// landingState is the page's state as a server-rendering framework puts
// it in the page for the client to take over (Next.js's __NEXT_DATA__).
func landingState(b *bytes.Buffer) {
	b.WriteString(`<script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"locale":"en","products":[`)
	for i := range 155 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(b, `{"id":%d,"slug":"product-%d","name":"%s","summary":"%s","price":{"amount":%d,"currency":"USD"},"tags":["%s","%s"],"image":{"src":"/img/p/%d.jpg","width":640,"height":480}}`,
			i, i, phrase(i, 2), phrase(i+3, 8), 900+i*37%5000, words[i%len(words)], words[(i+5)%len(words)], i)
	}
	b.WriteString(`]}},"page":"/","query":{},"buildId":"k3JxQ9vT2mP","isFallback":false,"gssp":true}</script>
`)
}
