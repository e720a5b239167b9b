package flatten

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

func TestItemSize(t *testing.T) {
	for _, tc := range []struct {
		item string
		want int64
	}{
		{`{}`, 0},
		{`{"id":{"S":"abc"}}`, 2 + 3},
		{`{"é":{"S":"가"}}`, 2 + 3},
		{`{"n":{"N":"12345"}}`, 1 + 1 + 3},
		{`{"n":{"N":"-0.00120"}}`, 1 + 1 + 1},
		{`{"n":{"N":"1E+125"}}`, 1 + 1 + 1},
		{`{"n":{"N":"0"}}`, 1 + 1},
		{`{"b":{"B":"AAEC"}}`, 1 + 3},
		{`{"b":{"B":"AAE="}}`, 1 + 2},
		{`{"t":{"BOOL":true},"z":{"NULL":true}}`, 2 + 2},
		{`{"m":{"M":{"a":{"S":"x"},"b":{"N":"1"}}}}`, 1 + 3 + (1 + 1 + 1) + (1 + 1 + 2)},
		{`{"l":{"L":[{"S":"xy"},{"BOOL":false}]}}`, 1 + 3 + (1 + 2) + (1 + 1)},
		{`{"ss":{"SS":["a","bc"]},"ns":{"NS":["1","22"]}}`, 2 + 3 + 2 + 2 + 2},
		{`{"bad":{"S":"x","N":"1"}}`, 3},
	} {
		v, err := fastjson.Parse(tc.item)
		require.NoError(t, err)
		require.Equal(t, tc.want, ItemSize(v, 0), tc.item)
	}
	// An item at DynamoDB's limit is one; a byte more is not.
	at := `{"k":{"S":"` + strings.Repeat("x", MaxItemBytes-1) + `"}}`
	v, _ := fastjson.Parse(at)
	require.Equal(t, int64(MaxItemBytes), ItemSize(v, MaxItemBytes))
	over := `{"k":{"S":"` + strings.Repeat("x", MaxItemBytes) + `"}}`
	v, _ = fastjson.Parse(over)
	require.Greater(t, ItemSize(v, MaxItemBytes), int64(MaxItemBytes))
}
