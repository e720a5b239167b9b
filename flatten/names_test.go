package flatten

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

func TestSanitizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"roomId", "room_id"},
		{"imageUrl", "image_url"},
		{"userID", "user_id"},
		{"HTTPServer", "http_server"},
		{"USER_ID", "user_id"},
		{"user_id", "user_id"},
		{"item2Name", "item2_name"},
		{"already_snake", "already_snake"},
		{"Crème Brûlée", "creme_brulee"},
		{"  spaces  and--dashes ", "spaces_and_dashes"},
		{"__leading__trailing__", "leading_trailing"},
		{"a.b", "a_b"},
		{"메모", ""},
		{"메모Id", "id"},
		{"ID", "id"},
		{"x", "x"},
		{"chat-messages", "chat_messages"},
		{"Ä", "a"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, SanitizeName(tc.in))
		})
	}
}

func TestColumnName(t *testing.T) {
	p := func(segs ...string) string {
		path := ""
		for _, s := range segs {
			path = JoinPath(path, s)
		}
		return path
	}
	require.Equal(t, "sender_profile_image_url", ColumnName(p("sender", "profile", "imageUrl")))
	require.Equal(t, "a_b_c", ColumnName(p("a.b", "c")), "a dot inside a name is just another character")

	korean := ColumnName(p("메모"))
	require.Regexp(t, `^col_[0-9a-f]{8}$`, korean)
	require.NotEqual(t, korean, ColumnName(p("메모2가")), "different paths hash differently")
	require.Equal(t, korean, ColumnName(p("메모")), "stable")
	require.Equal(t, "meta_"+hash8("메모"), ColumnName(p("meta", "메모")), "an empty segment is its hash")
	carrot, thumbs := ColumnName(p("reactions", "🥕")), ColumnName(p("reactions", "👍"))
	require.Regexp(t, `^reactions_[0-9a-f]{8}$`, carrot)
	require.NotEqual(t, carrot, thumbs, "keys that sanitize to nothing get names of their own, not reactions and reactions_2")
	require.Equal(t, hash8("🥕")+"_count", ColumnName(p("🥕", "count")))

	long := ColumnName(p(strings.Repeat("veryLongName", 40)))
	require.LessOrEqual(t, len(long), schemas.MaxNameLen)
	require.Regexp(t, `^very_long_name.*_[0-9a-f]{8}$`, long)
	require.Regexp(t, `^[a-z0-9_]+$`, long)
}

func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

func TestJoinSplitPath(t *testing.T) {
	for _, segs := range [][]string{
		{"a"}, {"a", "b"}, {"a.b", "c"}, {`back\slash`, "x.y.z"}, {"", ""}, {"메모", "."},
	} {
		path := ""
		for i, s := range segs {
			if i == 0 {
				path = JoinPath("", s)
				continue
			}
			path = JoinPath(path, s)
		}
		if len(segs) == 2 && segs[0] == "" {
			// JoinPath("", "") is "", so a leading empty segment does not survive.
			continue
		}
		require.Equal(t, segs, SplitPath(path), "path %q", path)
	}
}

func TestNameCollisions(t *testing.T) {
	s := schemas.NewSchema("t")
	var names []string
	for _, path := range []string{"userId", "user_id", "USER_ID", "dt", "hr", "userId2"} {
		c, err := s.Add(schemas.Column{Name: ColumnName(path), Path: path, Type: schemas.String})
		require.NoError(t, err)
		names = append(names, c.Name)
	}
	require.Equal(t, []string{"user_id", "user_id_2", "user_id_3", "dt_2", "hr_2", "user_id2"}, names)
	_, err := s.Add(schemas.Column{Name: "user_id", Path: "userId", Type: schemas.String})
	require.ErrorIs(t, err, schemas.ErrPathExists)
}

func TestTableName(t *testing.T) {
	require.Equal(t, "chat_messages", TableName("chat-messages"))
	require.Equal(t, "chat_messages_v2", TableName("ChatMessages.v2"))
}

// TestTableNameEveryValidName checks that every valid DynamoDB table name,
// of every length and alphabet, gives a lake name of [a-z0-9_], not
// starting with '_' (the lake's own folders), at most MaxTableNameLen
// bytes, and that distinct long names do not share one.
func TestTableNameEveryValidName(t *testing.T) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
	check := func(name string) string {
		t.Helper()
		got := TableName(name)
		require.NotEmpty(t, got, name)
		require.LessOrEqual(t, len(got), schemas.MaxTableNameLen, name)
		require.Regexp(t, `^[a-z0-9][a-z0-9_]*$`, got, name)
		return got
	}
	// Names that sanitize to nothing, or to a lake folder's name.
	require.Equal(t, "table_"+pathHash("___"), check("___"))
	require.NotEqual(t, check("..."), check("---"))
	require.Equal(t, "errors", check("_errors"))
	require.Equal(t, "ddblake", check("_ddblake"))
	require.Equal(t, "unknown", check("_unknown"))
	require.Equal(t, "inputs", check("_inputs"))
	// camelCase grows a name: 255 characters of aB give 382 bytes.
	seen := map[string]string{}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 3; n <= 255; n++ {
		for _, name := range []string{
			strings.Repeat("aB", n)[:n], strings.Repeat("x", n), strings.Repeat("_", n), strings.Repeat("9", n),
			randomName(rng, alphabet, n),
		} {
			got := check(name)
			if prev, ok := seen[got]; ok && prev != name && len(got) == schemas.MaxTableNameLen {
				t.Fatalf("%q and %q share the cut name %q", prev, name, got)
			}
			seen[got] = name
		}
	}
}

func randomName(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
