package rctest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// A PATCH path names one field of the user (VENDORS.md 2.7): the paths the
// Entra gallery app sends, plus phoneNumbers[type eq "work"].value.
const (
	fActive     = "active"
	fUserName   = "userName" // also emails[type eq "work"].value: one field
	fExternalID = "externalId"
	fTitle      = "title"
	fGiven      = "name.givenName"
	fFamily     = "name.familyName"
	fStreet     = "streetAddress"
	fLocality   = "locality"
	fRegion     = "region"
	fPostalCode = "postalCode"
	fCountry    = "country"
	fWorkPhone  = "phone.work"
	fMobile     = "phone.mobile"
	fDepartment = "department"
)

// Containers: paths that name more than one field. Only WithPolymorphicPatch
// accepts them (with object or array values).
const (
	cName       = "name"
	cEmails     = "emails"
	cWorkEmail  = "emails[work]"
	cAddresses  = "addresses"
	cWorkAddr   = "addresses[work]"
	cPhones     = "phoneNumbers"
	cPhone      = "phoneNumbers[typed]" // phoneNumbers[type eq "work"|"mobile"]
	cEnterprise = "enterprise"
)

// addressFields maps a lower-cased address sub-attribute to its field.
var addressFields = map[string]string{
	"streetaddress": fStreet, "locality": fLocality, "region": fRegion,
	"postalcode": fPostalCode, "country": fCountry,
}

// simpleFields maps a lower-cased top-level attribute to its field.
var simpleFields = map[string]string{
	"active": fActive, "username": fUserName, "externalid": fExternalID, "title": fTitle,
}

// target is what a PATCH path resolves to: a field, or a container (with
// the phone type of cPhone).
type target struct {
	field     string
	container string
	phoneType string
}

// parsePath resolves a PATCH path (attribute names without case, RFC 7643
// §2.1), or answers 400 invalidPath. Forms: attr, attr.sub,
// attr[type eq "t"], attr[type eq "t"].sub, the enterprise URN (alone or
// with :department), and any of these after the core User URN and a colon.
func parsePath(p string) (target, error) {
	bad := func() (target, error) {
		return target{}, scimErr(http.StatusBadRequest, scim.InvalidPath, "Path '%s' is not supported", p)
	}
	s := strings.TrimSpace(p)
	lower := strings.ToLower(s)
	ent := strings.ToLower(scim.EnterpriseUserSchema)
	switch {
	case lower == ent:
		return target{container: cEnterprise}, nil
	case lower == ent+":department":
		return target{field: fDepartment}, nil
	case strings.HasPrefix(lower, strings.ToLower(scim.UserSchema)+":"):
		s = s[len(scim.UserSchema)+1:]
	}
	name, rest := s, ""
	if i := strings.IndexAny(s, "[."); i >= 0 {
		name, rest = s[:i], s[i:]
	}
	filterType, hasFilter := "", false
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad()
		}
		t, ok := typeFilter(rest[1:end])
		if !ok {
			return bad()
		}
		filterType, hasFilter, rest = t, true, rest[end+1:]
	}
	sub := ""
	if strings.HasPrefix(rest, ".") {
		sub, rest = strings.ToLower(rest[1:]), ""
	}
	if rest != "" || name == "" {
		return bad()
	}
	switch n := strings.ToLower(name); {
	case simpleFields[n] != "" && !hasFilter && sub == "":
		return target{field: simpleFields[n]}, nil
	case n == "name" && !hasFilter:
		switch sub {
		case "":
			return target{container: cName}, nil
		case "givenname":
			return target{field: fGiven}, nil
		case "familyname":
			return target{field: fFamily}, nil
		}
	case n == "emails" && !hasFilter && sub == "":
		return target{container: cEmails}, nil
	case n == "emails" && filterType == "work":
		switch sub {
		case "":
			return target{container: cWorkEmail}, nil
		case "value":
			return target{field: fUserName}, nil
		}
	case n == "addresses" && !hasFilter && sub == "":
		return target{container: cAddresses}, nil
	case n == "addresses" && filterType == "work":
		if sub == "" {
			return target{container: cWorkAddr}, nil
		}
		if f := addressFields[sub]; f != "" {
			return target{field: f}, nil
		}
	case n == "phonenumbers" && !hasFilter && sub == "":
		return target{container: cPhones}, nil
	case n == "phonenumbers" && filterType == "other":
		// The extension number belongs to the server (VENDORS.md 2.6).
		return target{}, scimErr(http.StatusBadRequest, scim.Mutability, "The extension number (phoneNumbers of type 'other') cannot be changed")
	case n == "phonenumbers" && (filterType == "work" || filterType == "mobile"):
		field := fMobile
		if filterType == "work" {
			field = fWorkPhone
		}
		switch sub {
		case "":
			return target{container: cPhone, phoneType: filterType}, nil
		case "value":
			return target{field: field}, nil
		}
	}
	return bad()
}

// typeFilter parses the value filter of a path, `type eq "t"` (names
// without case), and returns t.
func typeFilter(s string) (string, bool) {
	s = strings.Trim(s, " ")
	attr, rest, ok := strings.Cut(s, " ")
	if !ok || !strings.EqualFold(attr, "type") {
		return "", false
	}
	op, rest, ok := strings.Cut(strings.TrimLeft(rest, " "), " ")
	if !ok || !strings.EqualFold(op, "eq") {
		return "", false
	}
	rest = strings.TrimLeft(rest, " ")
	end := quotedEnd(rest)
	if end < 0 || strings.Trim(rest[end:], " ") != "" {
		return "", false
	}
	var t string
	if json.Unmarshal([]byte(rest[:end]), &t) != nil {
		return "", false
	}
	return t, true
}

// patchOp is one decoded PATCH operation.
type patchOp struct {
	op       string // lower case
	path     string
	hasPath  bool
	value    any
	hasValue bool
}

// parsePatch decodes a PatchOp body: an object whose Operations (or
// operations) member lists objects with op, optional path and value.
func parsePatch(data []byte) ([]patchOp, error) {
	m, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	raw, ok := m["Operations"]
	if !ok {
		raw, ok = m["operations"]
	}
	list, isList := raw.([]any)
	if !ok || !isList || len(list) == 0 {
		return nil, scimErr(http.StatusBadRequest, scim.InvalidSyntax, "Member 'Operations' must be a non-empty array")
	}
	ops := make([]patchOp, 0, len(list))
	for _, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, scimErr(http.StatusBadRequest, scim.InvalidSyntax, "Each operation must be an object")
		}
		var op patchOp
		name, _ := o["op"].(string)
		op.op = strings.ToLower(name)
		if op.op != "add" && op.op != "replace" && op.op != "remove" {
			return nil, scimErr(http.StatusBadRequest, scim.InvalidSyntax, "Operation '%v' is not supported; use add, replace or remove", o["op"])
		}
		if p, ok := o["path"]; ok && p != nil {
			ps, ok := p.(string)
			if !ok {
				return nil, scimErr(http.StatusBadRequest, scim.InvalidPath, "Member 'path' must be a string")
			}
			op.path, op.hasPath = ps, strings.TrimSpace(ps) != ""
		}
		op.value, op.hasValue = o["value"]
		ops = append(ops, op)
	}
	return ops, nil
}

// patchUser is PATCH /Users/{id}: 200 with the user. The operations apply
// to a copy, all or none.
func (s *Sim) patchUser(c *call) error {
	ops, err := parsePatch(c.body)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.lookup(c.arg)
	if old == nil {
		return notFound(c.arg)
	}
	next := *old
	if old.addr != nil {
		a := *old.addr
		next.addr = &a
	}
	for _, op := range ops {
		if err := s.applyOp(&next, op); err != nil {
			return err
		}
	}
	if next.addr != nil {
		if *next.addr == (address{}) {
			next.addr = nil
		} else {
			a, err := normalizeAddress(*next.addr)
			if err != nil {
				return err
			}
			next.addr = &a
		}
	}
	if err := s.commit(old, &next); err != nil {
		return err
	}
	writeUser(c, http.StatusOK, &next)
	return nil
}

// applyOp applies one operation to u.
func (s *Sim) applyOp(u *user, op patchOp) error {
	if !op.hasPath {
		if op.op == "remove" {
			return scimErr(http.StatusBadRequest, scim.NoTarget, "A remove operation needs a path")
		}
		if !s.cfg.polymorphicPatch {
			return badValue("An operation without a path is not supported; give a path and a string value")
		}
		obj, ok := op.value.(map[string]any)
		if !ok {
			return badValue("The value of an operation without a path must be an object")
		}
		for k, v := range obj {
			if k == "schemas" {
				continue
			}
			t, err := parsePath(k)
			if err != nil {
				continue // attributes outside the schema are ignored, as on PUT
			}
			if err := s.applyTarget(u, op.op, t, v, true); err != nil {
				return err
			}
		}
		return nil
	}
	t, err := parsePath(op.path)
	if err != nil {
		return err
	}
	if op.op != "remove" && !op.hasValue {
		return badValue("Operation '%s' on '%s' needs a value", op.op, op.path)
	}
	return s.applyTarget(u, op.op, t, op.value, op.hasValue)
}

// applyTarget applies op with value to the field or container t.
func (s *Sim) applyTarget(u *user, op string, t target, value any, hasValue bool) error {
	if t.field != "" {
		return s.applyField(u, op, t.field, value)
	}
	if !s.cfg.polymorphicPatch {
		return badValue("Path names more than one attribute; give a path to one attribute and a string value")
	}
	if op == "remove" {
		switch t.container {
		case cName, cEmails, cWorkEmail:
			return badValue("Required attribute '%s' cannot be removed", t.container)
		case cAddresses, cWorkAddr:
			u.addr = nil
		case cPhones:
			u.workPhone, u.mobile = "", ""
		case cPhone:
			return s.applyField(u, op, phoneField(t.phoneType), nil)
		case cEnterprise:
			u.department = ""
		}
		return nil
	}
	switch t.container {
	case cName, cWorkAddr, cEnterprise, cWorkEmail:
		obj, ok := value.(map[string]any)
		if !ok {
			return badValue("The value of '%s' must be an object", t.container)
		}
		if t.container == cWorkAddr && op == "replace" {
			u.addr = nil
		}
		return s.applyObject(u, op, t.container, obj)
	case cPhone:
		obj, ok := value.(map[string]any)
		if !ok {
			return badValue("The value of a phone number must be an object")
		}
		return s.applyField(u, op, phoneField(t.phoneType), obj["value"])
	}
	list, ok := value.([]any)
	if !ok {
		return badValue("The value of '%s' must be an array", t.container)
	}
	if op == "replace" {
		switch t.container {
		case cAddresses:
			u.addr = nil
		case cPhones:
			u.workPhone, u.mobile = "", ""
		}
	}
	for _, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return badValue("The value of '%s' must be an array of objects", t.container)
		}
		typ, _ := obj["type"].(string)
		var err error
		switch {
		case t.container == cEmails && typ == "work":
			err = s.applyObject(u, op, cWorkEmail, obj)
		case t.container == cAddresses && typ == "work":
			err = s.applyObject(u, op, cWorkAddr, obj)
		case t.container == cPhones && (typ == "work" || typ == "mobile"):
			err = s.applyField(u, op, phoneField(typ), obj["value"])
		case t.container == cPhones && typ == "other":
			// server-owned extension: ignored, as on PUT
		default:
			return badValue("Type '%s' is not supported in '%s'", typ, t.container)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// applyObject applies the members of obj to the sub-attributes of an
// object container; "type" and "primary" are ignored.
func (s *Sim) applyObject(u *user, op, container string, obj map[string]any) error {
	for k, v := range obj {
		lk := strings.ToLower(k)
		if lk == "type" || lk == "primary" {
			continue
		}
		field := ""
		switch container {
		case cName:
			field = map[string]string{"givenname": fGiven, "familyname": fFamily}[lk]
		case cWorkEmail:
			field = map[string]string{"value": fUserName}[lk]
		case cWorkAddr:
			field = addressFields[lk]
		case cEnterprise:
			field = map[string]string{"department": fDepartment}[lk]
		}
		if field == "" {
			continue // outside the schema: ignored, as on PUT
		}
		if err := s.applyField(u, op, field, v); err != nil {
			return err
		}
	}
	return nil
}

func phoneField(typ string) string {
	if typ == "work" {
		return fWorkPhone
	}
	return fMobile
}

// applyField sets or clears one field. Values are strings (VENDORS.md 2.7:
// the spec types value as string); active also takes a JSON boolean, and
// the strings "true" and "false" unless WithBooleanActiveOnly.
func (s *Sim) applyField(u *user, op, field string, value any) error {
	if field == fActive {
		if op == "remove" {
			u.active = false
			return nil
		}
		switch v := value.(type) {
		case bool:
			u.active = v
			return nil
		case string:
			if !s.cfg.booleanActiveOnly && (strings.EqualFold(v, "true") || strings.EqualFold(v, "false")) {
				u.active = strings.EqualFold(v, "true")
				return nil
			}
		}
		return badValue("The value of 'active' must be a boolean")
	}
	str := ""
	if op != "remove" {
		v, ok := value.(string)
		if !ok {
			return badValue("The value of '%s' must be a string", field)
		}
		str = v
	}
	switch field {
	case fUserName, fGiven, fFamily:
		if strings.TrimSpace(str) == "" {
			return badValue("Required attribute '%s' cannot be removed or empty", field)
		}
	}
	switch field {
	case fUserName:
		u.userName = str // userName and the work email are one value
	case fGiven:
		u.givenName = str
	case fFamily:
		u.familyName = str
	case fExternalID:
		u.externalID = str
	case fTitle:
		u.title = str
	case fDepartment:
		u.department = str
	case fWorkPhone:
		u.workPhone = str
	case fMobile:
		u.mobile = str
	default:
		if u.addr == nil {
			u.addr = &address{}
		}
		switch field {
		case fStreet:
			u.addr.street = str
		case fLocality:
			u.addr.locality = str
		case fRegion:
			u.addr.region = str
		case fPostalCode:
			u.addr.postalCode = str
		case fCountry:
			u.addr.country = str
		}
	}
	return nil
}
