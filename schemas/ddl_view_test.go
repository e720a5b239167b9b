package schemas_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

var (
	partitionByRe = regexp.MustCompile(`PARTITION BY ([^\n]+)\n`)
	orderByRe     = regexp.MustCompile(`ORDER BY ([^\n]+)\n`)
	quotedRe      = regexp.MustCompile(`"([^"]+)"`)
)

// quotedNames lists the double-quoted identifiers of a SQL fragment.
func quotedNames(s string) []string {
	var out []string
	for _, m := range quotedRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestLatestViewDDL(t *testing.T) {
	for _, s := range []*schemas.Schema{sample(t), sampleHourly(t)} {
		view, err := schemas.LatestViewDDL(s, sampleOptions)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(view, `CREATE OR REPLACE VIEW "chat_lake"."chat_messages_latest" AS`+"\n"), view)
		require.NotContains(t, view, "`", "Trino and DuckDB do not accept backticks")
		require.Contains(t, view, "\n  FROM \"chat_lake\".\"chat_messages\"\n")

		// partitioned by exactly the key columns, in key order
		m := partitionByRe.FindStringSubmatch(view)
		require.NotNil(t, m)
		require.Equal(t, []string{"room_id", "sk"}, quotedNames(m[1]))
		require.Len(t, partitionByRe.FindAllString(view, -1), 1)

		// newest first
		m = orderByRe.FindStringSubmatch(view)
		require.NotNil(t, m)
		require.Equal(t, `"_event_time" DESC NULLS LAST, "_sequence_number" DESC NULLS LAST`, m[1])

		// only the newest row, and only when it is not a REMOVE
		require.True(t, strings.HasSuffix(view, "WHERE \"_latest_rank\" = 1\n  AND \"_event_name\" <> 'REMOVE'"), view)

		// the outer select lists every table column, partitions last, and
		// not the rank
		sel, err := schemas.LatestSelect(s, schemas.QualifiedName("chat_lake", s.Table))
		require.NoError(t, err)
		outer := sel[len("SELECT\n"):strings.Index(sel, "FROM (")]
		var want []string
		for _, c := range append(schemas.TableColumns(s), schemas.PartitionColumns(s)...) {
			want = append(want, c.Name)
		}
		require.Equal(t, want, quotedNames(outer))
		require.True(t, strings.HasSuffix(view, sel), "the view's body is LatestSelect")
	}
}

func TestLatestSelectFrom(t *testing.T) {
	sel, err := schemas.LatestSelect(sample(t), "read_parquet('lake/chat_messages/**/*.parquet', hive_partitioning = true)")
	require.NoError(t, err)
	require.Contains(t, sel, "\n  FROM read_parquet('lake/chat_messages/**/*.parquet', hive_partitioning = true)\n")
	require.True(t, strings.HasPrefix(sel, "SELECT\n"))
}

func TestKeyColumns(t *testing.T) {
	tests := []struct {
		name    string
		keys    []string
		columns []schemas.Column
		want    []string
		err     error
	}{
		{
			name: "hash and range",
			keys: []string{"roomId", "sk"},
			columns: []schemas.Column{
				{Name: "sk", Path: "sk", Type: schemas.String},
				{Name: "room_id", Path: "roomId", Type: schemas.String},
			},
			want: []string{"room_id", "sk"},
		},
		{
			name: "key renamed by a collision",
			keys: []string{"user_id"},
			columns: []schemas.Column{
				{Name: "user_id", Path: "userId", Type: schemas.String},
				{Name: "user_id", Path: "user_id", Type: schemas.Bigint},
			},
			want: []string{"user_id_2"},
		},
		{
			name:    "key holding a dot",
			keys:    []string{"pk.v1"},
			columns: []schemas.Column{{Name: "pk_v1", Path: `pk\.v1`, Type: schemas.String}},
			want:    []string{"pk_v1"},
		},
		{
			name:    "no keys",
			columns: []schemas.Column{{Name: "id", Path: "id", Type: schemas.String}},
			err:     schemas.ErrNoKeys,
		},
		{
			name:    "key without column",
			keys:    []string{"id", "sk"},
			columns: []schemas.Column{{Name: "id", Path: "id", Type: schemas.String}},
			err:     schemas.ErrNoKeys,
		},
		{
			name:    "nested path is not a key",
			keys:    []string{"a.b"},
			columns: []schemas.Column{{Name: "a_b", Path: "a.b", Type: schemas.String}},
			err:     schemas.ErrNoKeys,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := schemas.NewSchema("items")
			s.Keys = tc.keys
			for _, c := range tc.columns {
				_, err := s.Add(c)
				require.NoError(t, err)
			}
			got, err := schemas.KeyColumns(s)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				var de *schemas.DefinitionError
				require.True(t, errors.As(err, &de))
				require.Equal(t, "items", de.Table)
				_, err = schemas.LatestViewDDL(s, sampleOptions)
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			view, err := schemas.LatestViewDDL(s, sampleOptions)
			require.NoError(t, err)
			require.Equal(t, got, quotedNames(partitionByRe.FindStringSubmatch(view)[1]))
		})
	}
}

func TestLatestViewNoDatabase(t *testing.T) {
	view, err := schemas.LatestViewDDL(sample(t), schemas.Options{})
	require.NoError(t, err, "the view needs no location")
	require.Contains(t, view, `VIEW "`+schemas.DefaultDatabase+`"."chat_messages_latest"`)
	_, err = schemas.LatestViewDDL(sample(t), schemas.Options{Database: "bad db"})
	require.ErrorIs(t, err, schemas.ErrBadName)
}
