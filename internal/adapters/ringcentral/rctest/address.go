package rctest

import "strings"

// Error details of RingCentral's address validation; the region one is a
// live answer (VENDORS.md 2.6, RC-COMM), the country one follows it.
const (
	regionErrorDetail  = "Parameter [extension.contact.businessAddress.state] value is invalid."
	countryErrorDetail = "Parameter [extension.contact.businessAddress.country] value is invalid."
)

// countries maps the lower-cased names and ISO codes the simulator knows to
// the name RingCentral returns: a client that sends "US" reads back "United
// States" (VENDORS.md 2.6).
var countries = map[string]string{}

// regions lists, per country, the valid regions (lower-cased codes and
// names); countries without an entry accept any region.
var regions = map[string]map[string]bool{}

func init() {
	for _, c := range [][]string{
		{"United States", "US", "USA", "United States of America"},
		{"Canada", "CA", "CAN"},
		{"United Kingdom", "GB", "GBR", "UK", "Great Britain"},
		{"Ireland", "IE", "IRL"},
		{"Germany", "DE", "DEU"},
		{"France", "FR", "FRA"},
		{"Netherlands", "NL", "NLD"},
		{"Spain", "ES", "ESP"},
		{"Italy", "IT", "ITA"},
		{"Switzerland", "CH", "CHE"},
		{"Sweden", "SE", "SWE"},
		{"Australia", "AU", "AUS"},
		{"New Zealand", "NZ", "NZL"},
		{"India", "IN", "IND"},
		{"Japan", "JP", "JPN"},
		{"Mexico", "MX", "MEX"},
		{"Brazil", "BR", "BRA"},
	} {
		for _, alias := range c {
			countries[strings.ToLower(alias)] = c[0]
		}
	}
	us := map[string]bool{}
	for _, st := range [][2]string{
		{"AL", "Alabama"}, {"AK", "Alaska"}, {"AZ", "Arizona"}, {"AR", "Arkansas"}, {"CA", "California"},
		{"CO", "Colorado"}, {"CT", "Connecticut"}, {"DE", "Delaware"}, {"DC", "District of Columbia"},
		{"FL", "Florida"}, {"GA", "Georgia"}, {"HI", "Hawaii"}, {"ID", "Idaho"}, {"IL", "Illinois"},
		{"IN", "Indiana"}, {"IA", "Iowa"}, {"KS", "Kansas"}, {"KY", "Kentucky"}, {"LA", "Louisiana"},
		{"ME", "Maine"}, {"MD", "Maryland"}, {"MA", "Massachusetts"}, {"MI", "Michigan"}, {"MN", "Minnesota"},
		{"MS", "Mississippi"}, {"MO", "Missouri"}, {"MT", "Montana"}, {"NE", "Nebraska"}, {"NV", "Nevada"},
		{"NH", "New Hampshire"}, {"NJ", "New Jersey"}, {"NM", "New Mexico"}, {"NY", "New York"},
		{"NC", "North Carolina"}, {"ND", "North Dakota"}, {"OH", "Ohio"}, {"OK", "Oklahoma"}, {"OR", "Oregon"},
		{"PA", "Pennsylvania"}, {"RI", "Rhode Island"}, {"SC", "South Carolina"}, {"SD", "South Dakota"},
		{"TN", "Tennessee"}, {"TX", "Texas"}, {"UT", "Utah"}, {"VT", "Vermont"}, {"VA", "Virginia"},
		{"WA", "Washington"}, {"WV", "West Virginia"}, {"WI", "Wisconsin"}, {"WY", "Wyoming"},
		{"PR", "Puerto Rico"}, {"GU", "Guam"}, {"VI", "Virgin Islands"}, {"AS", "American Samoa"},
		{"MP", "Northern Mariana Islands"},
	} {
		us[strings.ToLower(st[0])], us[strings.ToLower(st[1])] = true, true
	}
	regions["United States"] = us
	ca := map[string]bool{}
	for _, p := range [][2]string{
		{"AB", "Alberta"}, {"BC", "British Columbia"}, {"MB", "Manitoba"}, {"NB", "New Brunswick"},
		{"NL", "Newfoundland and Labrador"}, {"NS", "Nova Scotia"}, {"NT", "Northwest Territories"},
		{"NU", "Nunavut"}, {"ON", "Ontario"}, {"PE", "Prince Edward Island"}, {"QC", "Quebec"},
		{"SK", "Saskatchewan"}, {"YT", "Yukon"},
	} {
		ca[strings.ToLower(p[0])], ca[strings.ToLower(p[1])] = true, true
	}
	regions["Canada"] = ca
}

// normalizeAddress returns a with its country normalised, or the 400 that
// RingCentral answers for an unknown country or a region its country does
// not have. An address without a country is stored as sent.
func normalizeAddress(a address) (address, error) {
	if a.country != "" {
		c, ok := countries[strings.ToLower(strings.TrimSpace(a.country))]
		if !ok {
			return a, badValue(countryErrorDetail)
		}
		a.country = c
	}
	if valid := regions[a.country]; valid != nil && a.region != "" && !valid[strings.ToLower(strings.TrimSpace(a.region))] {
		return a, badValue(regionErrorDetail)
	}
	return a, nil
}
