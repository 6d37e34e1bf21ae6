package caddymodule

import "github.com/consentedge/consentedge/charset"

// transcoder stands in front of the filter, which reads UTF-8: the response
// is relabelled charset=utf-8 (charset.RelabelContentType), which outranks
// any <meta>, so the browser decodes exactly the bytes the filter read and a
// UTF-16 page cannot hide markup from it.
type transcoder = charset.Transcoder
