package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// jsonValue is one JSON value of a list file and where it starts in the
// file, so that an error about it can name its line and column.
type jsonValue struct {
	raw []byte
	at  int // byte offset in the file
}

// posError is an error about the value at a byte offset of a list file;
// listError turns the offset into a line and column.
type posError struct {
	at  int
	msg string
}

func (e *posError) Error() string { return e.msg }

func errorAt(at int, format string, args ...any) error {
	return &posError{at: at, msg: fmt.Sprintf(format, args...)}
}

// listError names the file, and the line and column of the offending value
// for errors that know their offset in src.
func listError(name string, src []byte, err error) error {
	var pe *posError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", name, err)
	}
	at := min(max(pe.at, 0), len(src))
	line := 1 + bytes.Count(src[:at], []byte{'\n'})
	lineStart := bytes.LastIndexByte(src[:at], '\n') + 1
	col := 1 + utf8.RuneCount(src[lineStart:at])
	return fmt.Errorf("%s:%d:%d: %s", name, line, col, pe.msg)
}

// checkJSON checks that src is one well-formed JSON value. The standard
// decoder's SyntaxError.Offset counts the bytes read up to and including
// the offending one (encoding/json documentation), so it sits one before;
// a file that ends too soon is at fault at its end.
func checkJSON(src []byte) error {
	var v json.RawMessage
	err := json.Unmarshal(src, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		at := int(se.Offset) - 1
		if strings.Contains(se.Error(), "unexpected end") {
			at = len(src)
		}
		return errorAt(at, "invalid JSON: %v", se)
	}
	return err
}

// members calls fn for each member of the object v, in file order. v must
// be well-formed (checkJSON); what must be an object and is not is an error
// at its position.
func members(v jsonValue, what string, fn func(key string, m jsonValue) error) error {
	if len(v.raw) == 0 || v.raw[0] != '{' {
		return errorAt(v.at, "%s: want an object", what)
	}
	return walk(v, fn)
}

// elements calls fn for each element of the array v, in file order.
func elements(v jsonValue, what string, fn func(e jsonValue) error) error {
	if len(v.raw) == 0 || v.raw[0] != '[' {
		return errorAt(v.at, "%s: want an array", what)
	}
	return walk(v, func(_ string, e jsonValue) error { return fn(e) })
}

// walk reads the members of an object or the elements of an array (key "")
// with a Decoder: on well-formed input its InputOffset after a value is
// exact, and the value's own bytes end there.
func walk(v jsonValue, fn func(key string, m jsonValue) error) error {
	dec := json.NewDecoder(bytes.NewReader(v.raw))
	isObject := v.raw[0] == '{'
	if _, err := dec.Token(); err != nil {
		return errorAt(v.at, "%v", err)
	}
	for dec.More() {
		var key string
		if isObject {
			tok, err := dec.Token()
			if err != nil {
				return errorAt(v.at+int(dec.InputOffset()), "%v", err)
			}
			key, _ = tok.(string)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return errorAt(v.at+int(dec.InputOffset()), "%v", err)
		}
		start := v.at + int(dec.InputOffset()) - len(raw)
		if err := fn(key, jsonValue{raw: raw, at: start}); err != nil {
			return err
		}
	}
	return nil
}

// decodeAt unmarshals v into dst; a value of the wrong type is an error at
// that value's position, named by its field path.
func decodeAt(v jsonValue, what string, dst any) error {
	err := json.Unmarshal(v.raw, dst)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := what
		if te.Field != "" {
			field += "." + te.Field
		}
		return errorAt(v.at+valueStart(v.raw, int(te.Offset)), "%s: want %s, got %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	if err != nil {
		return errorAt(v.at, "%s: %v", what, err)
	}
	return nil
}

// jsonKind names a Go kind the way a list's author reads it.
func jsonKind(kind string) string {
	switch kind {
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a " + kind
}

// valueStart finds where the value that an UnmarshalTypeError's offset
// ends starts: that offset is just past a scalar, or just past the '{' or
// '[' that opens a composite (encoding/json decode.go).
func valueStart(raw []byte, end int) int {
	end = min(max(end, 1), len(raw))
	switch c := raw[end-1]; {
	case c == '{' || c == '[':
		return end - 1
	case c == '"':
		for i := end - 2; i >= 0; i-- {
			if raw[i] != '"' {
				continue
			}
			n := 0 // backslashes before it: an odd count escapes it
			for j := i - 1; j >= 0 && raw[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				return i
			}
		}
		return 0
	}
	i := end
	for i > 0 && bytes.IndexByte([]byte("0123456789+-.eEtrufalsn"), raw[i-1]) >= 0 {
		i--
	}
	return i
}
