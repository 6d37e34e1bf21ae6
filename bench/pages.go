package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// The bench's pages, all generated here, the same bytes on every run:
//   - small.html (5 KB) and large.html (0.5 MiB): a shop's product list,
//     tag-dense (a '<' every 31 bytes), with a tracker block every 40
//     products;
//   - landing.html (about 120 KB): a marketing site's home page, its head
//     carrying the vendors' tags as they publish them (landing.go);
//   - 2mib.html: the slow-clients case's page, like large.html.
//
// Each is a template with slots for what a site renders per request (a
// CSRF token, a CSP nonce, a cart count; dynamic.go). The static origin
// serves them filled with fixed values, so they repeat byte for byte; the
// dynamic origin fills them anew for every response.
const (
	smallPage   = "small.html"
	landingPage = "landing.html"
	largePage   = "large.html"
)

// measuredPages are the pages of the throughput, CPU and first-byte rows,
// smallest first.
var measuredPages = []string{smallPage, landingPage, largePage}

// pageLabel names a page in the table.
var pageLabel = map[string]string{
	smallPage:   "5 KB page",
	landingPage: "120 KB landing page",
	largePage:   "0.5 MiB page",
	slowPage:    "2 MiB page",
}

// benchPages builds every page's template; root is the repository's root,
// where the landing page's vendor snippets are read.
func benchPages(root string) (map[string]page, error) {
	snippets, err := loadLandingSnippets(filepath.Join(root, vendorsDir))
	if err != nil {
		return nil, err
	}
	pages := map[string]page{landingPage: splitPage(buildLanding(snippets))}
	for name, size := range map[string]int{smallPage: 5 << 10, largePage: 512 << 10, slowPage: 2 << 20} {
		pages[name] = splitPage(buildShop(size))
	}
	return pages, nil
}

// writePages writes the pages as the static origin serves them: filled
// with fixed values.
func writePages(dir string, pages map[string]page) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, p := range pages {
		var b bytes.Buffer
		p.render(&b, staticValues())
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

const shopHead = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<meta name="csrf-token" content="{{csrf}}">
<link rel="stylesheet" href="/css/site.css">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script>
<script nonce="{{nonce}}">window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-ABC123');</script>
<script nonce="{{nonce}}">!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init','1234');fbq('track','PageView');</script>
</head><body>
<header class="site-header"><nav class="main-nav"><ul class="menu"><li class="menu-item"><a href="/">Home</a></li><li class="menu-item"><a href="/shop/">Shop</a></li><li class="menu-item"><a href="/about/">About</a></li><li class="menu-item"><a class="cart" href="/cart/">Cart (<span class="cart-count">{{cart}}</span>)</a></li></ul></nav></header>
`

const shopCard = `<article class="product-card" data-id="%d"><a class="product-link" href="/p/%d/"><img class="product-image" src="/img/p%d.jpg" srcset="/img/p%d@2x.jpg 2x" alt="Product %d" width="320" height="240" loading="lazy"></a>
<h2 class="product-title"><a href="/p/%d/">Product %d, a good thing to have</a></h2><p class="product-text">A short description of product %d, with <em>emphasis</em> and a <a href="/c/%d/">category link</a>.</p>
<button class="add-to-cart" type="button" data-sku="SKU-%d">Add to cart</button></article>
`

// shopTracker is a pixel and a Tag Manager frame, as pages carry them in
// their body.
const shopTracker = `<img src="https://www.facebook.com/tr?id=1234&amp;ev=ViewContent" width="1" height="1" alt="" style="display:none">
<iframe src="https://www.googletagmanager.com/ns.html?id=GTM-XXXX" height="0" width="0" style="display:none;visibility:hidden"></iframe>
`

const shopTail = `<footer class="site-footer"><p>&copy; Shop</p><script src="https://js.stripe.com/v3/"></script><script nonce="{{nonce}}" src="/js/app.js"></script></footer></body></html>
`

// buildShop is a shop's product list of about size bytes: product cards,
// a tracker block after every 40th.
func buildShop(size int) []byte {
	var b bytes.Buffer
	b.WriteString(shopHead)
	for i := 0; b.Len() < size-len(shopTail); i++ {
		fmt.Fprintf(&b, shopCard, i, i, i, i, i, i, i, i, i%20, i)
		if i%40 == 39 {
			b.WriteString(shopTracker)
		}
	}
	b.WriteString(shopTail)
	return b.Bytes()
}
