package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink/catalog"
	"github.com/ddblake/ddblake/sink/catalog/glueapi"
	"github.com/ddblake/ddblake/sink/catalog/gluetest"
)

// cutAnswer returns a client of g through a proxy that cuts the answer
// to the first call of op short, after g has served it: the answer's
// status line, a Content-Length of 1000 and 4 bytes of body, then the
// connection closes.
func cutAnswer(t *testing.T, g *gluetest.Server, op string) *glueapi.Client {
	t.Helper()
	var cut atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, g.URL()+r.URL.Path, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		answer, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return
		}
		if r.Header.Get("X-Amz-Target") == glueapi.TargetPrefix+op && !cut.Swap(true) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			_, _ = fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n%s",
				resp.StatusCode, http.StatusText(resp.StatusCode), glueapi.ContentType, answer[:4])
			_ = buf.Flush()
			_ = conn.Close()
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answer)
	}))
	t.Cleanup(proxy.Close)
	c, err := glueapi.New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", "")},
		glueapi.Options{Endpoint: proxy.URL})
	require.NoError(t, err)
	return c
}

// TestSyncRetriesAnswersCutShort: an answer cut short (the connection
// closed after the headers) leaves the call's outcome unknown, the
// table perhaps created or updated: the sync reads the table again and
// merges once more, and ends with the table whole.
func TestSyncRetriesAnswersCutShort(t *testing.T) {
	for _, op := range []string{"GetTable", "CreateTable", "UpdateTable"} {
		t.Run(op, func(t *testing.T) {
			g := gluetest.NewServer(t)
			c, err := catalog.New(cutAnswer(t, g, op), catalog.Config{Database: db, Location: location, Backoff: time.Millisecond})
			require.NoError(t, err)
			_, err = c.Sync(context.Background(), chatSchema(t, baseCols...), nil)
			require.NoError(t, err)
			_, err = c.Sync(context.Background(), chatSchema(t, append(baseCols, "price", "bigint")...), nil)
			require.NoError(t, err)
			tbl, ok := g.Table(db, "chat_messages")
			require.True(t, ok)
			require.Equal(t, append(metadataNames(), "room_id", "sk", "text", "price"), tbl.Columns())
		})
	}
}
