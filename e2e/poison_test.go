package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLongValuesAndOldImagesReadBack replays, between good records, a
// 300 KB string and 100 KB of 0xff bytes (whose Parquet statistics are
// cut), a MODIFY of an OLD_IMAGE stream (its old image in _old_image) and
// a record at year 10000 (set aside): DuckDB reads every value whole,
// filters on the long string right despite the cut bounds, finds the old
// image, and the _latest view from `ddblake ddl` runs over the lake.
func TestLongValuesAndOldImagesReadBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := strings.Repeat("가나다라", 25_000) // 300,000 bytes
	blob := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xff", 100_000)))
	line := func(id, event, at, images string) string {
		return fmt.Sprintf(`{"eventID":%q,"eventName":%q,"eventSource":"aws:dynamodb",`+
			`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/e2e-poison/stream/x",`+
			`"dynamodb":{"ApproximateCreationDateTime":%s,"SequenceNumber":"1%020d",%s}}`, id, event, at, len(id), images)
	}
	keys := func(sk string) string { return `"Keys":{"pk":{"S":"room-1"},"sk":{"S":"` + sk + `"}}` }
	lines := []string{
		line("a", "INSERT", "1775001600", keys("1")+`,"NewImage":{"pk":{"S":"room-1"},"sk":{"S":"1"},"body":{"S":"`+big+`"},"blob":{"B":"`+blob+`"}}`),
		line("bb", "INSERT", "1775001601", keys("2")+`,"NewImage":{"pk":{"S":"room-1"},"sk":{"S":"2"},"body":{"S":"b"},"blob":{"B":"AA=="}}`),
		line("ccc", "MODIFY", "253402300800", keys("2")+`,"NewImage":{"pk":{"S":"room-1"},"sk":{"S":"2"},"body":{"S":"year 10000"}}`),
		line("dddd", "MODIFY", "1775001700", keys("2")+`,"OldImage":{"pk":{"S":"room-1"},"sk":{"S":"2"},"body":{"S":"b"},"gone":{"N":"7"}}`),
	}
	in := filepath.Join(dir, "poison.jsonl")
	require.NoError(t, os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	lake := filepath.Join(dir, "lake")
	res := replay(t, lake, 3, in)
	sum := res.Summary(t)
	require.Equal(t, 3, sum.Rows)
	require.Equal(t, 1, sum.SetAside)

	db := openDuck(t)
	scan := tableScan(lake, "e2e_poison")
	var maxBody, minBody string
	require.NoError(t, db.QueryRow("SELECT max(body), min(body) FROM "+scan).Scan(&maxBody, &minBody))
	require.Equal(t, big, maxBody, "the whole value, not its cut bound")
	require.Equal(t, "b", minBody)
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM "+scan+" WHERE body = "+sqlString(big)))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM "+scan+" WHERE body > "+sqlString(big[:63])))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM "+scan+" WHERE body = 'b'"))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM "+scan+" WHERE octet_length(blob) = 100000"))
	require.Equal(t, 1, countRows(t, db, "SELECT count(*) FROM "+scan+" WHERE blob = from_base64("+sqlString(blob)+")"))

	var old string
	require.NoError(t, db.QueryRow("SELECT _old_image FROM "+scan+" WHERE _event_id = 'dddd'").Scan(&old))
	require.JSONEq(t, `{"pk":{"S":"room-1"},"sk":{"S":"2"},"body":{"S":"b"},"gone":{"N":"7"}}`, old)
	require.Equal(t, 2, countRows(t, db, "SELECT count(*) FROM "+scan+" WHERE _old_image IS NULL"))

	// The latest view as `ddblake ddl` prints it: the MODIFY whose new
	// state the stream did not carry is the item's last row, keys only,
	// with the state before it in _old_image.
	res = ddblake(t, dir, "ddl", "--lake", lake, "--location", "s3://e2e-bucket/lake", "--format", "athena")
	require.Equal(t, 0, res.Code, res.Stderr)
	mustExec(t, db, `CREATE SCHEMA IF NOT EXISTS "ddblake"`)
	mustExec(t, db, `CREATE OR REPLACE VIEW "ddblake"."e2e_poison" AS SELECT * FROM `+scan)
	mustExec(t, db, viewStatement(t, res.Stdout, `"ddblake"."e2e_poison_latest"`))
	_, rows := queryRows(t, db, `SELECT sk, body, _event_name, _old_image FROM "ddblake"."e2e_poison_latest" ORDER BY sk`)
	require.Len(t, rows, 2)
	require.Equal(t, big, rows[0]["body"])
	require.Equal(t, "MODIFY", rows[1]["_event_name"])
	require.Nil(t, rows[1]["body"], "no earlier state shown as the current one")
	require.Contains(t, rows[1]["_old_image"], `"gone"`)
}
