package rules

import "time"

// parseCookieDate reads an Expires value as browsers do (RFC 6265 §5.1.1),
// which is far looser than HTTP dates: the value is split into tokens at
// delimiters, and the first token that looks like a time, a day of month, a
// month name and a year fills each field, in any order. ok is false when a
// field is missing or out of range: the browser then ignores the attribute.
func parseCookieDate(s string) (time.Time, bool) {
	var (
		foundTime, foundDay, foundMonth, foundYear bool
		hour, minute, sec, day, year               int
		month                                      time.Month
	)
	for len(s) > 0 {
		// Skip delimiters, then take the token up to the next one.
		i := 0
		for i < len(s) && isDateDelim(s[i]) {
			i++
		}
		s = s[i:]
		j := 0
		for j < len(s) && !isDateDelim(s[j]) {
			j++
		}
		tok := s[:j]
		s = s[j:]
		if tok == "" {
			continue
		}
		if !foundTime {
			if h, m, sc, ok := dateTime(tok); ok {
				hour, minute, sec, foundTime = h, m, sc, true
				continue
			}
		}
		if !foundDay {
			if n, ok := dateDigits(tok, 1, 2); ok {
				day, foundDay = n, true
				continue
			}
		}
		if !foundMonth && len(tok) >= 3 {
			if m, ok := dateMonth(tok[:3]); ok {
				month, foundMonth = m, true
				continue
			}
		}
		if !foundYear {
			if n, ok := dateDigits(tok, 2, 4); ok {
				year, foundYear = n, true
				continue
			}
		}
	}
	if !(foundTime && foundDay && foundMonth && foundYear) {
		return time.Time{}, false
	}
	switch {
	case year >= 70 && year <= 99:
		year += 1900
	case year >= 0 && year <= 69:
		year += 2000
	}
	if day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // "31 Feb": no such date
	}
	return t, true
}

// isDateDelim: %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E.
func isDateDelim(c byte) bool {
	return c == 0x09 || 0x20 <= c && c <= 0x2F || 0x3B <= c && c <= 0x40 || 0x5B <= c && c <= 0x60 || 0x7B <= c && c <= 0x7E
}

// dateDigits reads min..max leading digits of tok, followed by anything that
// is not a digit (RFC 6265's "( non-digit *OCTET )").
func dateDigits(tok string, min, max int) (int, bool) {
	n, i := 0, 0
	for i < len(tok) && i < max+1 && '0' <= tok[i] && tok[i] <= '9' {
		n = n*10 + int(tok[i]-'0')
		i++
	}
	if i < min || i > max {
		return 0, false
	}
	return n, true
}

// dateTime reads hh:mm:ss, each one or two digits, the last one followed by
// anything that is not a digit.
func dateTime(tok string) (h, m, s int, ok bool) {
	var f [3]int
	for k := range 3 {
		n, i := 0, 0
		for i < len(tok) && i < 3 && '0' <= tok[i] && tok[i] <= '9' {
			n = n*10 + int(tok[i]-'0')
			i++
		}
		if i < 1 || i > 2 {
			return 0, 0, 0, false
		}
		f[k], tok = n, tok[i:]
		if k < 2 {
			if tok == "" || tok[0] != ':' {
				return 0, 0, 0, false
			}
			tok = tok[1:]
		}
	}
	return f[0], f[1], f[2], true
}

// dateMonth matches the first three letters of a month name, any case.
func dateMonth(s string) (time.Month, bool) {
	const names = "janfebmaraprmayjunjulaugsepoctnovdec"
	var b [3]byte
	for i := range 3 {
		b[i] = s[i] | 0x20
	}
	for m := 0; m < 12; m++ {
		if names[3*m:3*m+3] == string(b[:]) {
			return time.Month(m + 1), true
		}
	}
	return 0, false
}
