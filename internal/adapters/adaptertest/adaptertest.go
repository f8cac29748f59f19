// Package adaptertest is the conformance suite every adapter passes, and so
// the definition of "an adapter": the same cases run against the reference
// store, each vendor simulator and a generic SCIM upstream. Every case goes
// through engine.New(adapter), which is what callers see, except
// CapabilitiesAreHonest, which calls the adapter directly to check that what
// it declares native really works natively.
package adaptertest

import (
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
)

// Run runs the conformance suite. newAdapter must return a fresh, empty
// adapter for each subtest, and release it with t.Cleanup. Subtest names are
// stable, so `-run TestConformance/CreateDuplicateIsConflict` works.
//
// Cases that need Groups or the Enterprise User extension skip, saying so,
// on a target that does not serve them; nothing else skips.
func Run(t *testing.T, newAdapter func(t *testing.T) adapters.Adapter) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, a adapters.Adapter)
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
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newAdapter(t)) })
	}
}
