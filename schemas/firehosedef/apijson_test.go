package firehosedef_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas/firehosedef"
)

func TestMarshalAPIJSON(t *testing.T) {
	type inner struct {
		On  *bool
		N   int32
		Tag string
	}
	type shape struct {
		Name     *string
		Off      *bool
		Zero     *int32
		Count    int32
		Flag     bool
		Empty    []string
		Items    []inner
		Params   map[string]string
		Nested   *inner
		Blank    *inner
		When     *time.Time
		internal string
	}
	when := time.Date(2026, 4, 1, 0, 0, 0, 500e6, time.UTC)
	v := shape{
		Name:     aws.String("array<string> & more"),
		Off:      aws.Bool(false),
		Zero:     aws.Int32(0),
		Items:    []inner{{}, {N: 2}},
		Params:   map[string]string{"b": "2", "a": "1"},
		Nested:   &inner{On: aws.Bool(true)},
		Blank:    &inner{},
		When:     &when,
		internal: "never",
	}
	got, err := firehosedef.MarshalAPIJSON(v)
	require.NoError(t, err)
	require.Equal(t, `{
  "Name": "array<string> & more",
  "Off": false,
  "Zero": 0,
  "Items": [
    {},
    {
      "N": 2
    }
  ],
  "Params": {
    "a": "1",
    "b": "2"
  },
  "Nested": {
    "On": true
  },
  "Blank": {},
  "When": 1775001600.5
}
`, string(got))

	_, err = firehosedef.MarshalAPIJSON(map[int]string{1: "x"})
	require.Error(t, err)
}
