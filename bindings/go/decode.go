package soidc

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Result documents are decoded member by member rather than with a plain
// json.Unmarshal, for two reasons: a provider's response is passed on by
// soidc verbatim, and one odd member (an expires_in sent as "3600", an
// email_verified sent as "true") must not turn a successful call into an
// error; and every member without a field, or whose value does not fit its
// field, is kept in the type's Extra map, so nothing the provider sent is lost.
// Member names match exactly (encoding/json would also match "SUB" to "sub").

// fieldIndex caches, per struct type, the JSON member names of its fields
// (those of embedded structs included) and their index paths.
var fieldIndex sync.Map // reflect.Type -> map[string][]int

func jsonFields(t reflect.Type) map[string][]int {
	if m, ok := fieldIndex.Load(t); ok {
		return m.(map[string][]int)
	}
	m := map[string][]int{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			index := append(append([]int(nil), prefix...), i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, index)
				continue
			}
			if f.IsExported() && name != "" {
				m[name] = index
			}
		}
	}
	walk(t, nil)
	fieldIndex.Store(t, m)
	return m
}

var errNotObject = errors.New("expected a JSON object")

// decodeObject fills the struct that dst points to from the JSON object in
// data. Members without a field, or whose value does not fit the field's
// type, go to *extra (left nil when there are none). JSON null leaves a
// field at its zero value.
func decodeObject(data []byte, dst any, extra *map[string]any) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return err
	}
	if members == nil {
		return errNotObject
	}
	v := reflect.ValueOf(dst).Elem()
	fields := jsonFields(v.Type())
	for name, raw := range members {
		if index, ok := fields[name]; ok && decodeField(raw, v.FieldByIndex(index)) {
			continue
		}
		var value any
		if json.Unmarshal(raw, &value) == nil {
			if *extra == nil {
				*extra = map[string]any{}
			}
			(*extra)[name] = value
		}
	}
	return nil
}

// decodeField decodes raw into f, accepting numbers and booleans sent as
// strings and integral numbers written as floats (3600.0). It reports false
// when the value does not fit.
func decodeField(raw json.RawMessage, f reflect.Value) bool {
	if string(raw) == "null" {
		return true
	}
	p := reflect.New(f.Type())
	if json.Unmarshal(raw, p.Interface()) == nil {
		f.Set(p.Elem())
		return true
	}
	text := string(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		text = s
	}
	switch f.Kind() {
	case reflect.Bool:
		if b, err := strconv.ParseBool(text); err == nil {
			f.SetBool(b)
			return true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x, err := strconv.ParseFloat(text, 64); err == nil && x == math.Trunc(x) && !f.OverflowInt(int64(x)) {
			f.SetInt(int64(x))
			return true
		}
	}
	return false
}

// decodeResult decodes a success document into a new T.
func decodeResult[T any](what, doc string) (*T, error) {
	v := new(T)
	if err := json.Unmarshal([]byte(doc), v); err != nil {
		return nil, shapeError(what, err)
	}
	return v, nil
}
