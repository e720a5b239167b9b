package gluedef_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas/gluedef"
)

// TestJSONKeepsOtherFields: a storage descriptor's fields the package
// does not model render with the others, unescaped, and read back the
// same; times are epoch seconds with milliseconds.
func TestJSONKeepsOtherFields(t *testing.T) {
	in := gluedef.TableInput{
		Name:           "t",
		LastAccessTime: &gluedef.Time{Time: time.Date(2026, 4, 1, 0, 0, 0, 500e6, time.UTC)},
		StorageDescriptor: &gluedef.StorageDescriptor{
			Columns: []gluedef.Column{{Name: "tags", Type: "array<string>"}},
			Other:   map[string]json.RawMessage{"NumberOfBuckets": json.RawMessage(`4`), "Columns": json.RawMessage(`[]`)},
		},
	}
	got, err := gluedef.JSON(&in)
	require.NoError(t, err)
	require.Equal(t, `{
  "Name": "t",
  "LastAccessTime": 1775001600.5,
  "StorageDescriptor": {
    "Columns": [
      {
        "Name": "tags",
        "Type": "array<string>"
      }
    ],
    "NumberOfBuckets": 4
  }
}
`, string(got), "a field of Other that the descriptor names is the descriptor's")
	var back gluedef.TableInput
	require.NoError(t, json.Unmarshal(got, &back))
	require.Equal(t, in.LastAccessTime.Time, back.LastAccessTime.Time)
	require.Equal(t, in.StorageDescriptor.Columns, back.StorageDescriptor.Columns)
	require.Equal(t, map[string]json.RawMessage{"NumberOfBuckets": json.RawMessage(`4`)}, back.StorageDescriptor.Other)

	var bad gluedef.Table
	require.Error(t, json.Unmarshal([]byte(`{"Name":"t","UpdateTime":"yesterday"}`), &bad))
	require.Error(t, json.Unmarshal([]byte(`{"Name":"t","UpdateTime":1e300}`), &bad))
}
