// Package benchpage generates the tag-dense shop page the load benchmark
// (bench/) and the handler's Go benchmarks read: product cards, a block of
// trackers every forty, and slots for what a site renders per request,
// {{csrf}}, {{nonce}} and {{cart}}. The same bytes on every run.
package benchpage

import (
	"bytes"
	"fmt"
)

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

// Shop is a shop's product list of about size bytes: product cards,
// a tracker block after every 40th.
func Shop(size int) []byte {
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
