package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// identityBodies maps each DynamoDB table (and account/region) of the
// identity fixture to the bodies of its records, in order.
func identityBodies(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(fixture("e2e", "identity", "tables.json"))
	require.NoError(t, err)
	var doc struct {
		Records []struct {
			EventSourceARN string `json:"eventSourceARN"`
			Dynamodb       struct {
				NewImage struct {
					Body struct{ S string } `json:"body"`
				}
			} `json:"dynamodb"`
		}
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	out := map[string][]string{}
	for _, r := range doc.Records {
		parts := strings.Split(r.EventSourceARN, ":") // arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/...
		name := strings.Split(parts[5], "/")[1]
		key := name + "@" + parts[4] + "/" + parts[3]
		out[key] = append(out[key], r.Dynamodb.NewImage.Body.S)
	}
	return out
}

// TestTableIdentityOnDuckDB replays, with the built binary, four
// DynamoDB tables whose names sanitize to chat_messages and the same
// table name from a second account and a second region; DuckDB reads
// each lake table back holding exactly its own table's records, and each
// table's _latest view (from `ddblake ddl`) runs. With the sources
// configured (a global table's two regions together, the second account
// apart under as:), nothing is set aside and each source lands where the
// configuration says.
func TestTableIdentityOnDuckDB(t *testing.T) {
	t.Parallel()
	bodies := identityBodies(t)
	a, b := "111111111111", "222222222222"
	for _, tc := range []struct {
		name   string
		config string
		code   int
		want   map[string][]string // lake table -> bodies
	}{
		{"first source keeps the table", "", 3, map[string][]string{
			"chat_messages":   bodies["chat-messages@"+a+"/us-east-1"],
			"chat_messages_2": bodies["chat.messages@"+a+"/us-east-1"],
			"chat_messages_3": bodies["chat_messages@"+a+"/us-east-1"],
			"chat_messages_4": bodies["ChatMessages@"+a+"/us-east-1"],
		}},
		{"sources configured", fixture("e2e", "identity", "global.yaml"), 0, map[string][]string{
			"chat_messages":     append(slices.Clone(bodies["chat-messages@"+a+"/us-east-1"]), bodies["chat-messages@"+a+"/eu-west-1"]...),
			"chat_messages_dev": bodies["chat-messages@"+b+"/us-east-1"],
			"chat_messages_2":   bodies["chat.messages@"+a+"/us-east-1"],
			"chat_messages_3":   bodies["chat_messages@"+a+"/us-east-1"],
			"chat_messages_4":   bodies["ChatMessages@"+a+"/us-east-1"],
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lake := filepath.Join(t.TempDir(), "lake")
			args := []string{fixture("e2e", "identity", "tables.json")}
			if tc.config != "" {
				args = append([]string{"--config", tc.config}, args...)
			}
			sum := replay(t, lake, tc.code, args...).Summary(t)
			require.Equal(t, len(tc.want), sum.Tables, sum.Line)
			if tc.code == 3 {
				require.Equal(t, 2, sum.SetAside)
				var kinds []string
				for _, q := range readQuarantine(t, lake) {
					kinds = append(kinds, q.ErrorKind)
				}
				require.Equal(t, []string{"other_source", "other_source"}, kinds)
			}
			res := ddblake(t, filepath.Dir(lake), "ddl", "--lake", lake, "--location", "s3://e2e-bucket/lake")
			require.Equal(t, 0, res.Code, res.Stderr)
			db := openDuck(t)
			mustExec(t, db, `CREATE SCHEMA IF NOT EXISTS "ddblake"`)
			for table, want := range tc.want {
				_, rows := queryRows(t, db, "SELECT body FROM "+tableScan(lake, table)+" ORDER BY _event_time")
				var got []string
				for _, r := range rows {
					got = append(got, r["body"].(string))
				}
				require.ElementsMatch(t, want, got, "lake table %s", table)

				mustExec(t, db, `CREATE OR REPLACE VIEW "ddblake".`+sqlIdent(table)+` AS SELECT * FROM `+tableScan(lake, table))
				mustExec(t, db, viewStatement(t, res.Stdout, `"ddblake".`+sqlIdent(table+"_latest")))
				n := countRows(t, db, `SELECT count(*) FROM "ddblake".`+sqlIdent(table+"_latest"))
				require.Equal(t, len(want), n, "%s_latest: every item is live once", table)
			}
		})
	}
}
