package rctest

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// user is one stored user. A *user is never changed once stored: a write
// stores a new one (copy on write), so that answers can be rendered
// outside the lock.
type user struct {
	id                    int64
	userName              string // also the value of the single work email (VENDORS.md 2.6)
	externalID            string
	givenName, familyName string
	active                bool
	title, department     string
	workPhone, mobile     string
	ext                   string // server-owned extension number, phoneNumbers type "other"
	addr                  *address
	photos                []photo
	created, modified     time.Time

	// WithSearchLag: until visibleAt, list and search see prev (nil for a
	// user created since).
	prev      *user
	visibleAt time.Time
}

type address struct {
	street, locality, region, postalCode, country string
}

type photo struct {
	typ, value string
}

// idString is the user's id as the API shows it.
func (u *user) idString() string { return strconv.FormatInt(u.id, 10) }

// view is what list and search show of u at now, or nil.
func (u *user) view(now time.Time) *user {
	if now.Before(u.visibleAt) {
		return u.prev
	}
	return u
}

// nameKey is the index key of a userName: emails compare without case.
func nameKey(userName string) string { return strings.ToLower(userName) }

// lookup returns the user with id, or nil. The caller holds s.mu.
func (s *Sim) lookup(id string) *user {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != id {
		return nil
	}
	i, ok := s.index(n)
	if !ok {
		return nil
	}
	return s.order[i]
}

// index is the position of id in s.order. The caller holds s.mu.
func (s *Sim) index(id int64) (int, bool) {
	return slices.BinarySearchFunc(s.order, id, func(u *user, id int64) int {
		switch {
		case u.id < id:
			return -1
		case u.id > id:
			return 1
		}
		return 0
	})
}

// insert stores a new user, giving it the next id. The caller holds s.mu.
func (s *Sim) insert(u *user) {
	u.id = s.nextID
	s.nextID++
	s.order = append(s.order, u) // ids only grow: order stays sorted
	s.byName[nameKey(u.userName)] = u
}

// replace stores next in place of old (the same id). The caller holds s.mu.
func (s *Sim) replace(old, next *user) {
	if i, ok := s.index(next.id); ok {
		s.order[i] = next
	}
	if k := nameKey(old.userName); s.byName[k] == old {
		delete(s.byName, k)
	}
	s.byName[nameKey(next.userName)] = next
}

// remove deletes u and gives its extension back. The caller holds s.mu.
func (s *Sim) remove(u *user) {
	if i, ok := s.index(u.id); ok {
		s.order = slices.Delete(s.order, i, i+1)
	}
	if k := nameKey(u.userName); s.byName[k] == u {
		delete(s.byName, k)
	}
	// The extension turns back into an unassigned extension (VENDORS.md
	// 2.8).
	s.freeExt = append(s.freeExt, u.ext)
	if s.unassigned >= 0 {
		s.unassigned++
	}
}

// takeExtension returns an extension number for a new user, or false when
// no unassigned extension is left. The caller holds s.mu.
func (s *Sim) takeExtension() (string, bool) {
	if s.unassigned == 0 {
		return "", false
	}
	if s.unassigned > 0 {
		s.unassigned--
	}
	if n := len(s.freeExt); n > 0 {
		ext := s.freeExt[n-1]
		s.freeExt = s.freeExt[:n-1]
		return ext, true
	}
	ext := strconv.Itoa(s.nextExt)
	s.nextExt++
	return ext, true
}

// seed creates n users without validation (WithSeed); New calls it before
// the Sim is shared. It makes one allocation for the users and one string
// per user, of which the user's texts are slices.
func (s *Sim) seed(n int, now time.Time) {
	if n <= 0 {
		return
	}
	s.order = slices.Grow(s.order, n)
	s.byName = make(map[string]*user, n)
	block := make([]user, n)
	depts := [...]string{"Sales", "Support", "Engineering", "Marketing", "Finance", "Operations", "Legal", "HR"}
	var buf []byte
	for i := range block {
		// "seed0000001@example.com" + "ext-0000001" + "User0000001" + extension
		buf = append(buf[:0], "seed"...)
		buf = appendPadded(buf, i+1)
		nameEnd := len(buf) + len("@example.com")
		buf = append(buf, "@example.comext-"...)
		buf = appendPadded(buf, i+1)
		extIDEnd := len(buf)
		buf = append(buf, "User"...)
		buf = appendPadded(buf, i+1)
		familyEnd := len(buf)
		buf = strconv.AppendInt(buf, int64(s.nextExt), 10)
		text := string(buf)
		u := &block[i]
		*u = user{
			userName:   text[:nameEnd],
			externalID: text[nameEnd:extIDEnd],
			givenName:  "Seed",
			familyName: text[extIDEnd:familyEnd],
			active:     i%10 != 9,
			department: depts[i%len(depts)],
			ext:        text[familyEnd:],
			created:    now,
			modified:   now,
		}
		s.nextExt++
		s.insert(u)
	}
}

// appendPadded appends n in decimal, zero-padded to 7 digits.
func appendPadded(buf []byte, n int) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	for i := len(d); i < 7; i++ {
		buf = append(buf, '0')
	}
	return append(buf, d...)
}

// timeFormat is the form of meta.created and meta.lastModified.
const timeFormat = "2006-01-02T15:04:05.000Z"

// locationBase is the base of meta.location: RingCentral's examples show an
// http URL on another host than the API's (VENDORS.md 2.1); clients must
// not parse it.
const locationBase = "http://scim.ringcentral.com/scim/v2/Users/"
