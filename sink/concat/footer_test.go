package concat

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/sink"
)

type sidecar struct{ bytes.Buffer }

func (s *sidecar) ReadAt(p []byte, off int64) (int, error) {
	return copy(p, s.Bytes()[off:]), nil
}

// TestFooterEncodedAsMarshalWould: the footer, written one row group at a
// time, is the bytes thrift.Marshal gives for the whole FileMetaData.
func TestFooterEncodedAsMarshalWould(t *testing.T) {
	s := laketest.RichSchema("t")
	rows := laketest.RichRows(600, 4, 1775001600000, 1)
	enc, err := sink.NewEncoder(sink.ParquetOptions{RowGroupBytes: 8 << 10})
	require.NoError(t, err)
	var out bytes.Buffer
	w := NewWriter(&out, &sidecar{})
	for k := 0; k < len(rows); k += 70 {
		require.NoError(t, enc.Encode(s, rows[k:min(k+70, len(rows))], func(f sink.EncodedFile) error {
			p, err := Parse(bytes.Clone(f.Body))
			require.NoError(t, err)
			return w.Append(p)
		}))
	}
	_, err = w.Close()
	require.NoError(t, err)
	b := out.Bytes()
	n := len(b)
	flen := int(binary.LittleEndian.Uint32(b[n-8 : n-4]))
	footer := b[n-8-flen : n-8]
	var proto thrift.CompactProtocol
	var md format.FileMetaData
	require.NoError(t, thrift.Unmarshal(&proto, footer, &md))
	require.Greater(t, len(md.RowGroups), 9)
	again, err := thrift.Marshal(&proto, &md)
	require.NoError(t, err)
	require.Equal(t, again, footer)
}
