// Validation, RFC 9111 §4.3: §4.3.1 conditional requests, §4.3.2 answering a client's conditional
// request (with RFC 9110 §13.1.2, §13.1.3, §13.2.2), §3.2 updating stored header fields, §4.3.4
// which stored response a 304 freshens.
#include "cache/policy/validation.h"

#include <gtest/gtest.h>

#include "http/http_date.h"

namespace cachefwd::cache::policy {
namespace {

const char* const kLm = "Sat, 29 Oct 1994 19:43:31 GMT";
const char* const kLmPlus1s = "Sat, 29 Oct 1994 19:43:32 GMT";
const char* const kLmMinus1s = "Sat, 29 Oct 1994 19:43:30 GMT";
const char* const kDate = "Sun, 06 Nov 1994 08:49:37 GMT";  // days after kLm
const http::Headers kNone;

// ---- §4.3.1 ----

TEST(ConditionalRequest, BothValidators) {
  const http::Headers c =
      conditional_request_headers({{"ETag", "\"v1\""}, {"Last-Modified", kLm}, {"Date", kDate}});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c.combined("If-None-Match"), "\"v1\"");
  EXPECT_EQ(c.combined("If-Modified-Since"), kLm);
}

TEST(ConditionalRequest, EachValidatorAlone) {
  http::Headers c = conditional_request_headers({{"ETag", "W/\"weak\""}});
  EXPECT_EQ(c.combined("If-None-Match"), "W/\"weak\"");
  EXPECT_FALSE(c.has("If-Modified-Since"));
  c = conditional_request_headers({{"Last-Modified", kLm}});
  EXPECT_EQ(c.combined("If-Modified-Since"), kLm);
  EXPECT_FALSE(c.has("If-None-Match"));
}

// A sender generates IMF-fixdate (RFC 9110 §5.6.7), even from an obsolete stored form.
TEST(ConditionalRequest, DateWrittenAsImfFixdate) {
  EXPECT_EQ(conditional_request_headers({{"Last-Modified", "Saturday, 29-Oct-94 19:43:31 GMT"}})
                .combined("If-Modified-Since"),
            kLm);
}

TEST(ConditionalRequest, NoOrInvalidValidators) {
  EXPECT_TRUE(conditional_request_headers({{"Date", kDate}, {"Cache-Control", "max-age=1"}}).empty());
  EXPECT_TRUE(conditional_request_headers({{"ETag", "unquoted"}, {"Last-Modified", "yesterday"}}).empty());
}

// ---- §4.3.2 ----

const http::Headers kStored{{"ETag", "\"v1\""}, {"Last-Modified", kLm}, {"Date", kDate}};

TEST(ClientPrecondition, IfNoneMatchWeakComparison) {
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "\"v1\""}}, kStored, 200));
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "W/\"v1\""}}, kStored, 200));
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "\"v1\""}}, {{"ETag", "W/\"v1\""}}, 200));
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "\"a\", \"v1\""}}, kStored, 200));
  EXPECT_TRUE(
      client_precondition_304({{"If-None-Match", "\"a\""}, {"If-None-Match", "\"v1\""}}, kStored, 200));
  EXPECT_FALSE(client_precondition_304({{"If-None-Match", "\"v2\""}}, kStored, 200));
  EXPECT_FALSE(client_precondition_304({{"If-None-Match", "\"V1\""}}, kStored, 200));
}

TEST(ClientPrecondition, IfNoneMatchStar) {
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "*"}}, kStored, 200));
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "*"}}, {{"Date", kDate}}, 200));
}

TEST(ClientPrecondition, IfNoneMatchWithoutStoredETag) {
  EXPECT_FALSE(client_precondition_304({{"If-None-Match", "\"v1\""}}, {{"Last-Modified", kLm}}, 200));
}

// RFC 9110 §13.1.3 / §13.2.2: If-None-Match takes precedence; If-Modified-Since is then ignored.
TEST(ClientPrecondition, IfNoneMatchWinsOverIfModifiedSince) {
  EXPECT_FALSE(
      client_precondition_304({{"If-None-Match", "\"other\""}, {"If-Modified-Since", kDate}}, kStored, 200));
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "\"v1\""}, {"If-Modified-Since", kLmMinus1s}},
                                      kStored, 200));
  EXPECT_FALSE(client_precondition_304({{"If-None-Match", "\"v1\""}, {"If-Modified-Since", kDate}},
                                       {{"Last-Modified", kLm}}, 200));
}

// RFC 9110 §13.1.3: 304 when the last modification is earlier than or equal to the date given.
TEST(ClientPrecondition, IfModifiedSince) {
  const http::Headers stored{{"Last-Modified", kLm}, {"Date", kDate}};
  EXPECT_TRUE(client_precondition_304({{"If-Modified-Since", kLm}}, stored, 200));
  EXPECT_TRUE(client_precondition_304({{"If-Modified-Since", kLmPlus1s}}, stored, 200));
  EXPECT_FALSE(client_precondition_304({{"If-Modified-Since", kLmMinus1s}}, stored, 200));
  // Any of the three date forms.
  EXPECT_TRUE(client_precondition_304({{"If-Modified-Since", "Sat Oct 29 19:43:31 1994"}}, stored, 200));
}

// §4.3.2: without Last-Modified, the stored Date, else the time the response was received.
TEST(ClientPrecondition, IfModifiedSinceFallsBackToDateThenReceiptTime) {
  EXPECT_TRUE(client_precondition_304({{"If-Modified-Since", kDate}}, {{"Date", kDate}}, 200));
  EXPECT_FALSE(client_precondition_304({{"If-Modified-Since", kLm}}, {{"Date", kDate}}, 200));
  const UnixMillis received = *http::parse_http_date(kLm);
  EXPECT_TRUE(client_precondition_304({{"If-Modified-Since", kLm}}, kNone, 200, received));
  EXPECT_FALSE(client_precondition_304({{"If-Modified-Since", kLmMinus1s}}, kNone, 200, received));
  EXPECT_FALSE(client_precondition_304({{"If-Modified-Since", kDate}}, kNone, 200));
}

// RFC 9110 §13.1.3: ignore an invalid date or a field with more than one member.
TEST(ClientPrecondition, InvalidIfModifiedSinceIgnored) {
  const http::Headers stored{{"Last-Modified", kLm}};
  EXPECT_FALSE(client_precondition_304({{"If-Modified-Since", "yesterday"}}, stored, 200));
  EXPECT_FALSE(client_precondition_304({{"If-Modified-Since", ""}}, stored, 200));
  EXPECT_FALSE(
      client_precondition_304({{"If-Modified-Since", kDate}, {"If-Modified-Since", kDate}}, stored, 200));
  EXPECT_FALSE(
      client_precondition_304({{"If-Modified-Since", std::string(kDate) + ", " + kDate}}, stored, 200));
}

// §4.3.2: only a stored 200 or 206 is evaluated.
TEST(ClientPrecondition, OnlyFor200And206) {
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "\"v1\""}}, kStored, 206));
  for (int s : {203, 204, 301, 404, 500})
    EXPECT_FALSE(client_precondition_304({{"If-None-Match", "\"v1\""}}, kStored, s)) << s;
}

// §4.3.2: If-Match and If-Unmodified-Since are for the origin, not for a cache.
TEST(ClientPrecondition, OriginOnlyPreconditionsIgnored) {
  EXPECT_FALSE(client_precondition_304({{"If-Match", "\"v1\""}}, kStored, 200));
  EXPECT_FALSE(client_precondition_304({{"If-Unmodified-Since", kDate}}, kStored, 200));
  EXPECT_FALSE(client_precondition_304({{"If-Range", "\"v1\""}}, kStored, 200));
  EXPECT_FALSE(client_precondition_304(kNone, kStored, 200));
}

// ---- §3.2 ----

TEST(UpdateStoredHeaders, ReplacesAndAdds) {
  http::Headers stored{{"Date", kLm}, {"Cache-Control", "max-age=10"}, {"ETag", "\"v1\""}, {"X-Keep", "k"}};
  update_stored_headers(stored, {{"Date", kDate}, {"Cache-Control", "max-age=60"}, {"X-New", "n"}});
  EXPECT_EQ(stored.combined("Date"), kDate);
  EXPECT_EQ(stored.combined("Cache-Control"), "max-age=60");
  EXPECT_EQ(stored.count("Cache-Control"), 1u);
  EXPECT_EQ(stored.combined("ETag"), "\"v1\"");
  EXPECT_EQ(stored.combined("X-Keep"), "k");
  EXPECT_EQ(stored.combined("X-New"), "n");
}

TEST(UpdateStoredHeaders, FieldNamesCaseInsensitiveAndMultiLine) {
  http::Headers stored{{"Link", "<a>"}, {"link", "<b>"}, {"Vary", "Accept"}};
  update_stored_headers(stored, {{"LINK", "<c>"}, {"X-A", "1"}, {"Link", "<d>"}});
  EXPECT_EQ(stored.combined("Link"), "<c>, <d>");
  EXPECT_EQ(stored.count("link"), 2u);
  EXPECT_EQ(stored.combined("Vary"), "Accept");
}

// "The Content-Length header field" is not updated: the stored body did not change.
TEST(UpdateStoredHeaders, ContentLengthNotUpdated) {
  http::Headers stored{{"Content-Length", "1234"}};
  update_stored_headers(stored, {{"Content-Length", "0"}});
  EXPECT_EQ(stored.combined("Content-Length"), "1234");
  http::Headers none;
  update_stored_headers(none, {{"Content-Length", "0"}});
  EXPECT_FALSE(none.has("Content-Length"));
}

// §3.1 exceptions apply to updates: Connection and the fields it lists, hop-by-hop fields, the
// proxy-specific ones.
TEST(UpdateStoredHeaders, StorageExceptions) {
  http::Headers stored{{"X-Hop", "old"}};
  update_stored_headers(stored, {{"Connection", "X-Hop, close"},
                                 {"X-Hop", "new"},
                                 {"Keep-Alive", "timeout=5"},
                                 {"Transfer-Encoding", "chunked"},
                                 {"TE", "trailers"},
                                 {"Trailer", "X-T"},
                                 {"Upgrade", "h2c"},
                                 {"Proxy-Connection", "keep-alive"},
                                 {"Proxy-Authenticate", "Basic"},
                                 {"Proxy-Authentication-Info", "x"},
                                 {"Proxy-Authorization", "Basic eDp5"},
                                 {"Content-Range", "bytes 0-1/2"},
                                 {"ETag", "\"v2\""}});
  EXPECT_EQ(stored.combined("X-Hop"), "old");
  for (const char* n :
       {"Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection",
        "Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization", "Content-Range"})
    EXPECT_FALSE(stored.has(n)) << n;
  EXPECT_EQ(stored.combined("ETag"), "\"v2\"");
}

// §3.1: private="field" prevents a shared cache from storing that field.
TEST(UpdateStoredHeaders, PrivateQualifiedFieldsNotStored) {
  http::Headers stored{{"X-User", "old"}};
  update_stored_headers(stored, {{"Cache-Control", "max-age=60, private=\"X-User\""}, {"X-User", "alice"}});
  EXPECT_EQ(stored.combined("X-User"), "old");
  EXPECT_TRUE(stored.has("Cache-Control"));
}

TEST(UpdateStoredHeaders, SetCookieFollowsTheStorageRule) {
  http::Headers stored{{"ETag", "\"v1\""}};
  PolicyConfig cfg;
  update_stored_headers(stored, {{"Set-Cookie", "id=alice"}, {"Date", kDate}}, cfg);
  EXPECT_FALSE(stored.has("Set-Cookie"));
  EXPECT_TRUE(stored.has("Date"));
  cfg.store_set_cookie = true;
  update_stored_headers(stored, {{"Set-Cookie", "id=alice"}}, cfg);
  EXPECT_TRUE(stored.has("Set-Cookie"));
  // The RFC-only form keeps it (RFC 9111 §3.2 lists no exception for it).
  http::Headers plain;
  update_stored_headers(plain, {{"Set-Cookie", "id=bob"}});
  EXPECT_TRUE(plain.has("Set-Cookie"));
}

// ---- §4.3.4 ----

TEST(NotModifiedSelects, StrongValidator) {
  EXPECT_TRUE(not_modified_selects({{"ETag", "\"v1\""}}, {{"ETag", "\"v1\""}}));
  EXPECT_FALSE(not_modified_selects({{"ETag", "\"v1\""}}, {{"ETag", "\"v2\""}}));
  // A strong validator in the 304 that the stored response does not share: no update at all.
  EXPECT_FALSE(not_modified_selects({{"ETag", "W/\"v1\""}}, {{"ETag", "\"v1\""}}));
  EXPECT_FALSE(not_modified_selects({{"Last-Modified", kLm}}, {{"ETag", "\"v1\""}}));
  EXPECT_FALSE(not_modified_selects(kNone, {{"ETag", "\"v1\""}}));
}

// A 304 to our own conditional (only the stored response's validators sent): it selects what we
// validated unless a validator in it contradicts that response.
TEST(NotModifiedSelects, OurOwnConditionalIsAnsweredUnlessContradicted) {
  const http::Headers both{{"ETag", "\"v1\""}, {"Last-Modified", kLm}};
  EXPECT_TRUE(not_modified_selects_validated(both, kNone));
  EXPECT_TRUE(not_modified_selects_validated({{"Last-Modified", kLm}}, kNone));
  EXPECT_TRUE(not_modified_selects_validated(both, {{"ETag", "W/\"v1\""}}));
  EXPECT_TRUE(not_modified_selects_validated({{"ETag", "W/\"v1\""}}, {{"ETag", "\"v1\""}}));
  EXPECT_TRUE(not_modified_selects_validated(both, {{"Last-Modified", kLm}}));
  EXPECT_TRUE(not_modified_selects_validated({{"Last-Modified", kLm}}, {{"ETag", "\"v9\""}}));
  EXPECT_FALSE(not_modified_selects_validated(both, {{"ETag", "\"v2\""}}));
  EXPECT_FALSE(not_modified_selects_validated(both, {{"ETag", "not-a-tag"}}));
  EXPECT_FALSE(not_modified_selects_validated({{"Last-Modified", kLm}}, {{"Last-Modified", kDate}}));
  // The plain §4.3.4 selection refuses a 304 without validators for a response that has some.
  EXPECT_FALSE(not_modified_selects(both, kNone));
}

TEST(NotModifiedSelects, StrongLastModifiedWithoutStoredETag) {
  // Date 60 s or more after Last-Modified: the date is a strong validator (RFC 9110 §8.8.2.2).
  EXPECT_TRUE(not_modified_selects({{"Last-Modified", kLm}, {"Date", kDate}},
                                   {{"ETag", "\"v1\""}, {"Last-Modified", kLm}}));
  EXPECT_FALSE(not_modified_selects({{"Last-Modified", kLm}, {"Date", kLmPlus1s}},
                                    {{"ETag", "\"v1\""}, {"Last-Modified", kLm}}));
}

TEST(NotModifiedSelects, WeakValidator) {
  EXPECT_TRUE(not_modified_selects({{"ETag", "W/\"v1\""}}, {{"ETag", "W/\"v1\""}}));
  EXPECT_TRUE(not_modified_selects({{"ETag", "\"v1\""}}, {{"ETag", "W/\"v1\""}}));
  EXPECT_FALSE(not_modified_selects({{"ETag", "W/\"v1\""}}, {{"ETag", "W/\"v2\""}}));
  EXPECT_TRUE(not_modified_selects({{"Last-Modified", kLm}}, {{"ETag", "W/\"v1\""}, {"Last-Modified", kLm}}));
  EXPECT_FALSE(
      not_modified_selects({{"Last-Modified", kLm}}, {{"ETag", "W/\"v1\""}, {"Last-Modified", kDate}}));
}

TEST(NotModifiedSelects, LastModifiedOnly) {
  EXPECT_TRUE(not_modified_selects({{"Last-Modified", kLm}}, {{"Last-Modified", kLm}}));
  EXPECT_TRUE(
      not_modified_selects({{"Last-Modified", kLm}}, {{"Last-Modified", "Sat Oct 29 19:43:31 1994"}}));
  EXPECT_FALSE(not_modified_selects({{"Last-Modified", kLm}}, {{"Last-Modified", kLmPlus1s}}));
  EXPECT_FALSE(not_modified_selects({{"ETag", "\"v1\""}}, {{"Last-Modified", kLm}}));
}

// "If the new response does not include any form of validator ... and that stored response also
// lacks a validator, then that stored response is identified for update."
TEST(NotModifiedSelects, NoValidators) {
  EXPECT_TRUE(not_modified_selects({{"Date", kLm}}, {{"Date", kDate}}));
  EXPECT_FALSE(not_modified_selects({{"ETag", "\"v1\""}}, {{"Date", kDate}}));
  EXPECT_FALSE(not_modified_selects({{"Last-Modified", kLm}}, {{"Date", kDate}}));
}

TEST(NotModifiedSelects, UnreadableETagMatchesNothing) {
  EXPECT_FALSE(not_modified_selects(kNone, {{"ETag", "v1"}}));
  EXPECT_FALSE(not_modified_selects({{"ETag", "v1"}}, {{"ETag", "v1"}}));
}

}  // namespace
}  // namespace cachefwd::cache::policy

namespace cachefwd::cache::policy {
namespace {

// ---- §4.3.5 ----

const char* const kLm5 = "Sat, 29 Oct 1994 19:43:31 GMT";
const char* const kLm5b = "Sun, 30 Oct 1994 19:43:31 GMT";

TEST(HeadResponseFreshens, MatchingValidatorsAndLength) {
  const http::Headers stored{{"ETag", "\"v1\""}, {"Last-Modified", kLm5}, {"Content-Length", "10"}};
  EXPECT_TRUE(head_response_freshens(stored, {{"ETag", "\"v1\""}}, 10));
  EXPECT_TRUE(head_response_freshens(stored, {{"Last-Modified", kLm5}}, 10));
  EXPECT_TRUE(head_response_freshens(
      stored, {{"ETag", "\"v1\""}, {"Last-Modified", kLm5}, {"Content-Length", "10"}}, 10));
}

TEST(HeadResponseFreshens, AnyMismatchMeansStale) {
  const http::Headers stored{{"ETag", "\"v1\""}, {"Last-Modified", kLm5}};
  EXPECT_FALSE(head_response_freshens(stored, {{"ETag", "\"v2\""}}, 10));
  EXPECT_FALSE(head_response_freshens(stored, {{"ETag", "W/\"v1\""}}, 10));
  EXPECT_FALSE(head_response_freshens(stored, {{"ETag", "\"v1\""}, {"Last-Modified", kLm5b}}, 10));
  EXPECT_FALSE(head_response_freshens(stored, {{"ETag", "\"v1\""}, {"Content-Length", "11"}}, 10));
  EXPECT_FALSE(head_response_freshens({{"Last-Modified", kLm5}}, {{"ETag", "\"v1\""}}, 10));
  // Without any validator nothing shows it is the same representation.
  EXPECT_FALSE(head_response_freshens(stored, {{"Content-Length", "10"}}, 10));
}

// ---- §3.1 ----

TEST(RemoveUnstorableFields, StorageExceptions) {
  http::Headers h{{"Connection", "X-Hop, close"},   {"X-Hop", "1"},
                  {"Keep-Alive", "timeout=5"},      {"Transfer-Encoding", "chunked"},
                  {"Proxy-Authenticate", "Basic"},  {"Proxy-Authentication-Info", "x"},
                  {"Proxy-Authorization", "Basic"}, {"Upgrade", "h2c"},
                  {"Content-Length", "3"},          {"X-Other", "kept"},
                  {"Cache-Control", "max-age=9"}};
  remove_unstorable_fields(h);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_TRUE(h.has("Content-Length"));
  EXPECT_TRUE(h.has("X-Other"));
  EXPECT_TRUE(h.has("Cache-Control"));
}

TEST(RemoveUnstorableFields, PrivateFieldsOnlyInASharedCache) {
  const http::Headers original{
      {"Cache-Control", "private=\"X-User\", no-cache=\"X-Nc\""}, {"X-User", "alice"}, {"X-Nc", "1"}};
  http::Headers shared = original;
  remove_unstorable_fields(shared);
  EXPECT_FALSE(shared.has("X-User"));
  EXPECT_TRUE(shared.has("X-Nc"));
  http::Headers priv = original;
  remove_unstorable_fields(priv, false);
  EXPECT_TRUE(priv.has("X-User"));
}

TEST(UpdateStoredHeaders, PrivateCacheKeepsPrivateFields) {
  http::Headers stored;
  PolicyConfig cfg;
  cfg.shared = false;
  update_stored_headers(
      stored, {{"Cache-Control", "private=\"X-User\""}, {"X-User", "a"}, {"Set-Cookie", "c=1"}}, cfg);
  EXPECT_TRUE(stored.has("X-User"));
  EXPECT_TRUE(stored.has("Set-Cookie"));
}

}  // namespace
}  // namespace cachefwd::cache::policy

namespace cachefwd::cache::policy {
namespace {

// ---- §4.3.2 union of entity tags ----

TEST(ForwardedIfNoneMatch, UnionOfClientAndStoredTags) {
  const http::Headers stored{{"ETag", "\"s\""}};
  EXPECT_EQ(forwarded_if_none_match({{"If-None-Match", "\"c1\", W/\"c2\""}}, stored),
            "\"c1\", W/\"c2\", \"s\"");
  EXPECT_EQ(forwarded_if_none_match({{"If-None-Match", "\"c1\""}, {"If-None-Match", "\"c2\""}}, stored),
            "\"c1\", \"c2\", \"s\"");
  // Already listed (weak comparison): unchanged.
  EXPECT_EQ(forwarded_if_none_match({{"If-None-Match", "W/\"s\""}}, stored), "W/\"s\"");
  EXPECT_EQ(forwarded_if_none_match({{"If-None-Match", "*"}}, stored), "*");
  // Weak stored tags keep their weakness.
  EXPECT_EQ(forwarded_if_none_match({{"If-None-Match", "\"c\""}}, {{"ETag", "W/\"s\""}}), "\"c\", W/\"s\"");
}

TEST(ForwardedIfNoneMatch, OneSideMissing) {
  EXPECT_EQ(forwarded_if_none_match({}, {{"ETag", "\"s\""}}), "\"s\"");
  EXPECT_EQ(forwarded_if_none_match({{"If-None-Match", "\"c\""}}, {}), "\"c\"");
  EXPECT_EQ(forwarded_if_none_match({{"If-None-Match", "\"c\""}}, {{"ETag", "bad"}}), "\"c\"");
  EXPECT_EQ(forwarded_if_none_match({}, {}), "");
}

// The §4.3.2 MUST: a 304 with an ETag not in the client's list means a 200 for the client.
// After freshening, client_precondition_304 on the updated stored response decides it.
TEST(ForwardedIfNoneMatch, AnswerAfterFreshening) {
  http::Headers stored{{"ETag", "\"s\""}, {"Cache-Control", "max-age=0"}};
  const http::Headers client{{"If-None-Match", "\"c\""}};
  const http::Headers resp_304{{"ETag", "\"s\""}, {"Cache-Control", "max-age=60"}};
  ASSERT_TRUE(not_modified_selects(stored, resp_304));
  update_stored_headers(stored, resp_304);
  EXPECT_FALSE(client_precondition_304(client, stored, 200));  // serve the stored 200
  EXPECT_TRUE(client_precondition_304({{"If-None-Match", "\"s\""}}, stored, 200));
}

// ---- RFC 9110 §15.4.5 ----

TEST(NotModifiedResponseHeaders, ListedFieldsOnly) {
  const http::Headers stored{{"Date", "d"},
                             {"Cache-Control", "max-age=60"},
                             {"ETag", "\"v\""},
                             {"Expires", "e"},
                             {"Vary", "Accept"},
                             {"Vary", "Accept-Language"},
                             {"Content-Location", "/x"},
                             {"Last-Modified", "lm"},
                             {"Content-Type", "text/html"},
                             {"Content-Length", "10"},
                             {"Set-Cookie", "a=b"}};
  const http::Headers h = not_modified_response_headers(stored);
  EXPECT_EQ(h.size(), 7u);
  EXPECT_EQ(h.combined("Vary"), "Accept, Accept-Language");
  for (const char* absent : {"Last-Modified", "Content-Type", "Content-Length", "Set-Cookie"})
    EXPECT_FALSE(h.has(absent)) << absent;
}

TEST(NotModifiedResponseHeaders, LastModifiedWhenNoETag) {
  const http::Headers h =
      not_modified_response_headers({{"Date", "d"}, {"Last-Modified", "lm"}, {"Server", "s"}});
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.combined("Last-Modified"), "lm");
}

}  // namespace
}  // namespace cachefwd::cache::policy
