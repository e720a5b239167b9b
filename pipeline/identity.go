package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ddblake/ddblake/schemas"
)

// maxLakeNames bounds the names tried for one origin: its own and the
// collision suffixes _2 to _<maxLakeNames>.
const maxLakeNames = 10_000

// lakeName returns the lake table of origin: the first of asked, asked_2,
// asked_3, ... whose registry entry is origin's, or is free (and is then
// claimed for origin with a conditional write), or predates origins
// (and is then adopted). Names ending in schemas.LatestViewSuffix are
// skipped: they are the names of views. So two origins never share a
// lake table, the first to ask keeps the plain name, and a name once
// given never moves, also when several writers claim names at once.
func (p *Processor) lakeName(ctx context.Context, origin schemas.Origin, asked string) (string, error) {
	p.mu.Lock()
	name, ok := p.names[origin]
	p.mu.Unlock()
	if ok {
		return name, nil
	}
	for i := 1; i <= maxLakeNames; i++ {
		name := lakeCandidate(asked, i)
		if name == "" {
			continue
		}
		s, err := p.Schemas.Schema(ctx, name)
		if err != nil {
			return "", err
		}
		if s.Origin != nil && *s.Origin != origin {
			continue // an origin never changes: taken for good
		}
		mine := s.Origin != nil
		if !mine {
			if _, err := p.Schemas.Update(ctx, name, func(stored *schemas.Schema) (*schemas.Schema, error) {
				switch {
				case stored == nil:
					mine = true
					claimed := schemas.NewSchema(name)
					claimed.Origin = &origin
					return claimed, nil
				case stored.Origin == nil: // written before origins were recorded
					mine = true
					stored.Origin = &origin
					return stored, nil
				}
				mine = *stored.Origin == origin
				return nil, nil
			}); err != nil {
				return "", err
			}
		}
		if mine {
			p.mu.Lock()
			if p.names == nil {
				p.names = map[schemas.Origin]string{}
			}
			p.names[origin] = name
			p.mu.Unlock()
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: %s and its suffixes up to _%d are other tables'", ErrNoLakeName, asked, maxLakeNames)
}

// lakeCandidate is the i'th name lakeName tries for asked: asked itself,
// then asked_2, asked_3, ..., asked cut to schemas.MaxTableNameLen first
// (which leaves room for the suffix within every name limit); "" for a
// name that ends in schemas.LatestViewSuffix.
func lakeCandidate(asked string, i int) string {
	suffix := ""
	if i > 1 {
		suffix = "_" + strconv.Itoa(i)
	}
	base := asked
	if len(base) > schemas.MaxTableNameLen {
		base = strings.TrimRight(base[:schemas.MaxTableNameLen], "_")
	}
	name := base + suffix
	if name == "" || strings.HasSuffix(name, schemas.LatestViewSuffix) {
		return ""
	}
	return name
}

// admit decides, for each account and region among the records of tb,
// whether its records may enter tb's lake table: yes when the table
// holds that source already, holds none yet, or holds only sources the
// configuration says belong with it (Config.together); admitted sources
// are recorded in the registry, with a conditional write, so that two
// writers never admit two sources that must stay apart. It returns the
// reason of each refused source. Records of unknown source are always
// admitted and recorded nowhere.
func (p *Processor) admit(ctx context.Context, tb *tableBatch) (map[schemas.Source]error, error) {
	var pending []schemas.Source
	for _, src := range tb.sources {
		if src.Known() && !slices.Contains(pending, src) {
			pending = append(pending, src)
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	s, err := p.Schemas.Schema(ctx, tb.name)
	if err != nil {
		return nil, err
	}
	pending = slices.DeleteFunc(pending, func(src schemas.Source) bool { return slices.Contains(s.Sources, src) })
	if len(pending) == 0 {
		return nil, nil // sources are never removed: admitted for good
	}
	var why map[schemas.Source]error
	_, err = p.Schemas.Update(ctx, tb.name, func(stored *schemas.Schema) (*schemas.Schema, error) {
		why = map[schemas.Source]error{}
		if stored == nil {
			stored = schemas.NewSchema(tb.name)
			stored.Origin = &tb.origin
		}
		changed := false
		for _, src := range pending {
			if slices.Contains(stored.Sources, src) {
				continue
			}
			if other, clash := p.clash(stored.Sources, src); clash {
				why[src] = fmt.Errorf("%w: table %s: %s: lake table %s holds the records of %s; "+
					"list both under tables.%s.sources in the configuration to keep them together, or give this one a lake table of its own with as:",
					ErrOtherSource, tb.table, src, tb.name, other, tb.table)
				continue
			}
			stored.Sources = append(stored.Sources, src)
			changed = true
		}
		if !changed {
			return nil, nil
		}
		return stored, nil
	})
	if err != nil {
		return nil, err
	}
	return why, nil
}

// clash returns the first of held (in the order they were admitted)
// that src may not join, if any.
func (p *Processor) clash(held []schemas.Source, src schemas.Source) (schemas.Source, bool) {
	for _, h := range held {
		if !p.Config.together(h, src) {
			return h, true
		}
	}
	return schemas.Source{}, false
}
