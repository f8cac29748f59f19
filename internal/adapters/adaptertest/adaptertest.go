// Package adaptertest is the conformance suite every adapter passes, and so
// the definition of "an adapter": the same cases run against the reference
// store, each vendor simulator and a generic SCIM upstream. Every case goes
// through engine.New(adapter), which is what callers see, except
// CapabilitiesAreHonest, which calls the adapter directly to check that what
// it declares native really works natively.
package adaptertest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
)

// Options adapts the suite's data to what a vendor accepts. The zero value
// is the suite as Run runs it.
//
// What a target advertises the suite reads from the target itself, the
// User resource type its engine serves (schema and extensions): it writes,
// filters on, sorts on and asserts only attributes that type has. Where a
// case uses one the target lacks, an advertised attribute stands in when
// one tests the same thing (another string attribute such as title,
// department or externalId for displayName, title or nickName; department
// for employeeNumber and costCenter; phoneNumbers for a second email), and
// otherwise that check is left out with a t.Log line naming the attribute.
// A check on an advertised attribute is never left out, and no case skips
// for this (only the Group cases skip, on a target without Groups). When
// the canonical values of the target's emails.type are only "work", every
// user the suite writes has at most one email, its work email: the
// userName when UserNameDomain is set, else name@example.com.
//
// A RingCentral target (Users only; userName is the work email; the name
// is required) runs as
//
//	adaptertest.RunWith(t, adaptertest.Options{UserNameDomain: "example.com", RequiredName: true}, newAdapter)
type Options struct {
	// UserNameDomain, when set, makes every userName the suite writes an
	// email address: "bjensen" becomes "bjensen@<domain>", for vendors whose
	// userName must be the user's email (Webex, VENDORS.md 1.6). A work email
	// marked primary then equals the userName. Filters, expectations and sort
	// orders are adjusted so that each case still tests the same thing.
	//
	// The domain must be a DNS name that does not contain "example.org": the
	// suite keeps that domain for emails that are not userNames, so that
	// filters on emails can tell the two apart.
	UserNameDomain string

	// RequiredName, when set, gives every User the suite writes (POST, PUT
	// and Bulk bodies) a name.givenName and a name.familyName when its body
	// lacks them, for vendors that refuse a user without both (RingCentral,
	// VENDORS.md 2.6). The values, DefaultGivenName and DefaultFamilyName,
	// are ones no case filters or sorts by. A schema cannot say this (name
	// is not required in RFC 7643), hence the option.
	RequiredName bool
}

// The name parts Options.RequiredName adds to a User that has none.
const (
	DefaultGivenName  = "Given"
	DefaultFamilyName = "Default"
)

// check reports options the suite cannot run with.
func (o Options) check() error {
	d := o.UserNameDomain
	if d == "" {
		return nil
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return fmt.Errorf("adaptertest: UserNameDomain %q is not a DNS name", d)
		}
	}
	if strings.Contains(strings.ToLower(d), "example.org") {
		return fmt.Errorf("adaptertest: UserNameDomain %q contains example.org, which the suite keeps for emails that are not userNames", d)
	}
	return nil
}

// Run runs the conformance suite with the zero Options. newAdapter must
// return a fresh, empty adapter for each subtest, and release it with
// t.Cleanup. Subtest names are stable, so
// `-run TestConformance/CreateDuplicateIsConflict` works.
//
// Cases that need Groups or the Enterprise User extension skip, saying so,
// on a target that does not serve them; nothing else skips.
func Run(t *testing.T, newAdapter func(t *testing.T) adapters.Adapter) {
	t.Helper()
	RunWith(t, Options{}, newAdapter)
}

// RunWith runs the conformance suite as Run does, with the data adapted by
// opts. Invalid opts fail the test before any case runs.
func RunWith(t *testing.T, opts Options, newAdapter func(t *testing.T) adapters.Adapter) {
	t.Helper()
	if err := opts.check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, a adapters.Adapter, o Options)
	}{
		// Resources.
		{"CreateThenGet", testCreateThenGet},
		{"CreateIgnoresReadOnly", testCreateIgnoresReadOnly},
		{"CreateDuplicateIsConflict", testCreateDuplicate},
		{"GetMissingIsNotFound", testGetMissing},
		{"ReplaceUser", testReplaceUser},
		{"ReplaceMissingIsNotFound", testReplaceMissing},
		{"ReplaceToTakenUserNameIsConflict", testReplaceTakenUserName},
		{"DeleteUser", testDeleteUser},
		{"ResultsAreCopies", testResultsAreCopies},
		{"GroupCRUD", testGroupCRUD},
		{"GroupMemberMustExist", testGroupMemberMustExist},
		{"GroupMembershipInUserGroups", testGroupMembershipInUserGroups},
		{"DeleteUserLeavesGroups", testDeleteUserLeavesGroups},
		{"DeleteGroupLeavesUserGroups", testDeleteGroupLeavesUserGroups},

		// Queries.
		{"FilterUsers", testFilterUsers},
		{"FilterUsersByMetaDates", testFilterMetaDates},
		{"FilterGroups", testFilterGroups},
		{"FilterInvalidIsBadRequest", testFilterInvalid},
		{"SearchAcrossTypes", testSearchAcrossTypes},
		{"Paging", testPaging},
		{"PagingWithFilter", testPagingWithFilter},
		{"SortByAndOrder", testSort},
		{"SortWithPaging", testSortWithPaging},
		{"Projection", testProjection},
		{"ProjectionReturnedSemantics", testProjectionReturned},

		// PATCH.
		{"PatchUserForms", testPatchUserForms},
		{"PatchExtension", testPatchExtension},
		{"PatchGroupMembers", testPatchGroupMembers},
		{"PatchErrors", testPatchErrors},
		{"PatchIsAtomic", testPatchAtomic},
		{"PatchMissingIsNotFound", testPatchMissing},
		{"PatchUserNameConflict", testPatchUserNameConflict},

		// ETags.
		{"VersionChangesOnWrite", testVersionChanges},
		{"IfMatchMismatchIsPreconditionFailed", testIfMatchMismatch},
		{"IfMatchCurrentSucceeds", testIfMatchCurrent},

		// Bulk.
		{"BulkCreateWithReferences", testBulkReferences},
		{"BulkForwardReference", testBulkForwardReference},
		{"BulkCircularReferenceIsConflict", testBulkCircular},
		{"BulkUnknownReference", testBulkUnknownReference},
		{"BulkFailOnErrors", testBulkFailOnErrors},
		{"BulkContinuesAfterErrors", testBulkContinues},
		{"BulkMaxOperations", testBulkMaxOperations},
		{"BulkVersionIsIfMatch", testBulkVersion},

		// The adapter's own word.
		{"CapabilitiesAreHonest", testCapabilities},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newAdapter(t), opts) })
	}
}
