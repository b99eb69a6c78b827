package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Reads a JSON array (floats written with a decimal point or exponent; {"$float": "NaN"}
// for what JSON cannot spell, {"$bytes": base64} for bytes) of raw values (as pcommon FromRaw accepts) and prints AsString of each.
func main() {
	var raws []any
	dec := json.NewDecoder(os.Stdin)
	dec.UseNumber()
	if err := dec.Decode(&raws); err != nil {
		panic(err)
	}
	out := []string{}
	for _, r := range raws {
		v := pcommon.NewValueEmpty()
		if err := v.FromRaw(convert(r)); err != nil {
			panic(err)
		}
		out = append(out, v.AsString())
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func convert(r any) any {
	switch t := r.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = convert(t[i])
		}
		return t
	case map[string]any:
		if s, ok := t["$float"].(string); ok && len(t) == 1 {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				panic(err)
			}
			return f
		}
		if s, ok := t["$bytes"].(string); ok && len(t) == 1 {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				panic(err)
			}
			return b
		}
		for k := range t {
			t[k] = convert(t[k])
		}
		return t
	}
	return r
}
