package router

import "strings"

// parseETags splits the values of an If-Match or If-None-Match header into
// entity tags (RFC 7232 §3.1, §3.2): a comma-separated list, where a comma
// inside a quoted tag belongs to the tag. star reports the value "*".
// Elements are kept as sent, unquoted ones included: they then simply fail
// to match.
func parseETags(values []string) (tags []string, star bool) {
	for _, v := range values {
		start, quoted := 0, false
		for i := 0; i <= len(v); i++ {
			if i < len(v) {
				switch v[i] {
				case '"':
					quoted = !quoted
					continue
				case ',':
					if quoted {
						continue
					}
				default:
					continue
				}
			}
			tag := strings.TrimSpace(v[start:i])
			start = i + 1
			switch tag {
			case "":
			case "*":
				star = true
			default:
				tags = append(tags, tag)
			}
		}
	}
	return tags, star
}

// weakMatch is the weak comparison of RFC 7232 §2.3.2: two entity tags match
// when their opaque tags are equal, whether either is weak or not. SCIM uses
// it for If-Match too: meta.version is a weak tag, and RFC 7644 §3.14 sends
// weak tags in If-Match, which a strong comparison would never match.
func weakMatch(a, b string) bool {
	a, b = strings.TrimPrefix(a, "W/"), strings.TrimPrefix(b, "W/")
	return a != "" && a == b
}

// anyMatch reports whether one of tags matches current weakly.
func anyMatch(tags []string, current string) bool {
	if current == "" {
		return false
	}
	for _, t := range tags {
		if weakMatch(t, current) {
			return true
		}
	}
	return false
}
