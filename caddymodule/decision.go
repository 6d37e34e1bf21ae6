package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxEndpointBody bounds a decision: a form or JSON naming every category of
// a large rule set fits many times over.
const maxEndpointBody = 4 << 10

// decision is a POST body, from a form or JSON.
type decision struct {
	// Action is "accept_all", "reject_all", or "save"/"" (the grants).
	Action string
	// Grant lists the category ids granted (necessary is always).
	Grant []string
	// Redirect is the same-site path to return to (forms).
	Redirect string
}

// The fields of a decision, in a form and in JSON alike.
const (
	fieldAction   = "action"
	fieldGrant    = "grant"
	fieldRedirect = "redirect"
)

// readDecision reads a form or JSON body of at most maxEndpointBody bytes.
// Both read alike: field names match exactly, a field given twice is
// refused (whichever copy a reader took, another reader could take the
// other), and so is a field whose name differs from one of ours only in
// case. The one field a form may repeat is grant, one per checkbox.
func readDecision(r *http.Request) (d decision, isJSON bool, err error) {
	mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mt != "application/x-www-form-urlencoded" && mt != "application/json" {
		return d, false, endpointErr(http.StatusUnsupportedMediaType, "a consent decision is a form (application/x-www-form-urlencoded) or JSON (application/json)")
	}
	body, rerr := io.ReadAll(io.LimitReader(r.Body, maxEndpointBody+1))
	if rerr != nil {
		return d, false, endpointErr(http.StatusBadRequest, "reading the consent decision: %v", rerr)
	}
	if len(body) > maxEndpointBody {
		return d, false, endpointErr(http.StatusBadRequest, "a consent decision is at most %d bytes", maxEndpointBody)
	}
	if mt == "application/json" {
		d, err = readJSONDecision(body)
		if err != nil {
			return d, true, endpointErr(http.StatusBadRequest, "malformed consent decision: %v", err)
		}
		return d, true, nil
	}
	d, err = readFormDecision(body)
	if err != nil {
		return d, false, endpointErr(http.StatusBadRequest, "malformed consent form: %v", err)
	}
	return d, false, nil
}

// readFormDecision reads a form. Fields that are not ours are ignored:
// frameworks add their own to every form (a CSRF token), and a form field
// cannot be told apart from a typo anyway.
func readFormDecision(body []byte) (d decision, err error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return d, err
	}
	for name, vals := range form {
		switch name {
		case fieldGrant:
		case fieldAction, fieldRedirect:
			if len(vals) > 1 {
				return d, fmt.Errorf("field %q given %d times", name, len(vals))
			}
		default:
			if f := caseVariant(name); f != "" {
				return d, fmt.Errorf("field %q: field names are lowercase (%q)", name, f)
			}
		}
	}
	d.Action = form.Get(fieldAction)
	d.Redirect = form.Get(fieldRedirect)
	for _, g := range form[fieldGrant] {
		// One field per checkbox, or one field listing ids.
		d.Grant = append(d.Grant, strings.FieldsFunc(g, func(r rune) bool { return r == '.' || r == ',' || r == ' ' })...)
	}
	return d, nil
}

// caseVariant is the field of ours that name spells in other case, or "".
func caseVariant(name string) string {
	for _, f := range []string{fieldAction, fieldGrant, fieldRedirect} {
		if name != f && strings.EqualFold(name, f) {
			return f
		}
	}
	return ""
}

// readJSONDecision reads one JSON object with the fields "action" (a
// string), "grant" (an array of strings) and "redirect" (a string), token
// by token: encoding/json's struct decoding would take the last of two
// copies of a field and match names case-insensitively, where the form
// reader refuses both.
func readJSONDecision(body []byte) (d decision, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := expectDelim(dec, '{', "a JSON object"); err != nil {
		return d, err
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return d, err
		}
		name, ok := tok.(string)
		if !ok { // the decoder yields only strings as object keys
			return d, fmt.Errorf("want a field name, got %v", tok)
		}
		switch {
		case seen[name]:
			return d, fmt.Errorf("field %q given twice", name)
		case name == fieldAction:
			d.Action, err = jsonString(dec, name)
		case name == fieldRedirect:
			d.Redirect, err = jsonString(dec, name)
		case name == fieldGrant:
			d.Grant, err = jsonStrings(dec, name)
		case caseVariant(name) != "":
			return d, fmt.Errorf("field %q: field names are lowercase (%q)", name, caseVariant(name))
		default:
			return d, fmt.Errorf("unknown field %q", name)
		}
		if err != nil {
			return d, err
		}
		seen[name] = true
	}
	if err := expectDelim(dec, '}', "the end of the object"); err != nil {
		return d, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return d, errors.New("data after the JSON object")
	}
	return d, nil
}

// expectDelim reads the next token and checks that it is delim.
func expectDelim(dec *json.Decoder, delim json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != delim {
		return fmt.Errorf("want %s, got %v", what, tok)
	}
	return nil
}

// jsonString reads the string value of the field name.
func jsonString(dec *json.Decoder, name string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("field %q must be a string", name)
	}
	return s, nil
}

// jsonStrings reads the array of strings that is the value of the field
// name.
func jsonStrings(dec *json.Decoder, name string) ([]string, error) {
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('[') {
		return nil, fmt.Errorf("field %q must be an array of strings", name)
	}
	out := []string{}
	for dec.More() {
		s, err := jsonString(dec, name+"[]")
		if err != nil {
			return nil, fmt.Errorf("field %q must be an array of strings", name)
		}
		out = append(out, s)
	}
	_, err := dec.Token() // ']': More said so
	return out, err
}
