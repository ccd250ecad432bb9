#pragma once
// Validation (RFC 9111 §4.3): the conditional request a cache sends, the client's conditional
// request a cache answers itself, and merging a 304 (or HEAD) response into a stored one.
#include <cstdint>
#include <string>

#include "base/time.h"
#include "cache/policy/config.h"
#include "http/headers.h"

namespace cachefwd::cache::policy {

// §4.3.1: the precondition fields to add to a request that revalidates `stored_response`:
// If-None-Match with the stored ETag (when it is a valid entity-tag, weak ones included: the
// origin compares weakly, RFC 9110 §13.1.2) and If-Modified-Since with the stored Last-Modified
// (when it is a valid HTTP-date; written as IMF-fixdate, RFC 9110 §5.6.7). Both when both exist.
// Empty when the stored response has no validator (then only an unconditional request can
// revalidate it).
http::Headers conditional_request_headers(const http::Headers& stored_response);

// §4.3.2 with RFC 9110 §13.1.2, §13.1.3 and §13.2.2: should a cache that would serve the stored
// response to this request answer 304 instead? Only for a stored 200 or 206. The caller has
// already decided the request may be served from the store and that its method is GET or HEAD
// (If-Modified-Since applies to those only; If-None-Match answers 304 only for those).
//  - If-None-Match present: true for "*", or when a listed tag weakly matches the stored ETag
//    (§8.8.3.2); false otherwise, also when the stored response has no ETag. If-Modified-Since
//    is then ignored (§13.1.3: "A recipient MUST ignore If-Modified-Since if the request contains
//    an If-None-Match header field").
//  - else If-Modified-Since: ignored (false) unless there is exactly one field line holding a
//    valid HTTP-date; true when the stored Last-Modified is at or before that date. Without
//    Last-Modified the stored Date is used, then, in the overload that has it, the time the
//    stored response was received (§4.3.2); without any of them, false.
// If-Match, If-Unmodified-Since and If-Range are not for a cache to answer (§4.3.2).
bool client_precondition_304(const http::Headers& request, const http::Headers& stored_response,
                             int stored_status);
bool client_precondition_304(const http::Headers& request, const http::Headers& stored_response,
                             int stored_status, UnixMillis stored_response_time);

// §4.3.2: when the cache forwards a request that carries the client's own If-None-Match to
// revalidate its stored response, it may send the union of both lists: the client's value with the
// stored ETag appended when no member already matches it weakly. "*" is forwarded as it is; no
// client If-None-Match gives the stored ETag alone; no (valid) stored ETag gives the client's value.
// Empty when neither exists. After the 304 has freshened the stored response, answer the client by
// calling client_precondition_304() again on the updated headers: a 304 whose ETag is not in the
// client's list then yields the stored response as a 200, as §4.3.2 requires.
std::string forwarded_if_none_match(const http::Headers& request, const http::Headers& stored_response);

// RFC 9110 §15.4.5: the fields a 304 generated from a stored response carries: Cache-Control,
// Content-Location, Date, ETag, Expires and Vary as stored (every line, in order), plus
// Last-Modified when there is no ETag ("might be useful if the response does not have an ETag").
// The caller adds Age (RFC 9111 §5.1) and its own fields (Cache-Status, Via, Connection).
http::Headers not_modified_response_headers(const http::Headers& stored_response);

// §3.2: update a stored response's header fields from a 304 (§4.3.4) or HEAD (§4.3.5) response:
// each field of `fresh_response` replaces all stored fields of that name (several lines of one
// name are all kept, in order), others are added, except:
//  - fields excepted from storage (§3.1): Connection and the fields it lists, the hop-by-hop
//    fields of RFC 9110 §7.6.1 (Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
//    Upgrade), Proxy-Authenticate, Proxy-Authentication-Info, Proxy-Authorization, and (shared
//    cache) fields listed in the response's private="..." directive;
//  - Content-Length (the stored body did not change);
//  - Content-Range, a field the HTTP implementation processes and removes (§3.2 allows omitting
//    it): a stored complete response must not acquire one.
// Stored fields the fresh response does not mention are kept.
void update_stored_headers(http::Headers& stored, const http::Headers& fresh_response);
// The same, and in a shared cache Set-Cookie is not stored unless cfg.store_set_cookie (the rule
// storability() applies to whole responses): the cookie was for the client whose request caused
// the revalidation, not for everyone the entry is served to. The proxy should use this one.
void update_stored_headers(http::Headers& stored, const http::Headers& fresh_response,
                           const PolicyConfig& cfg);

// §4.3.4: does this 304 select (freshen) this stored response? For one stored response:
//  - the 304 has a strong ETag: the stored ETag must match it by the strong comparison; with no
//    stored ETag, only an identical Last-Modified that is strong (stored Date at least 60 s
//    later, RFC 9110 §8.8.2.2) identifies it;
//  - the 304 has a weak ETag: weak comparison with the stored ETag; with no stored ETag, an
//    identical Last-Modified;
//  - the 304 has only Last-Modified: the stored one must be identical;
//  - the 304 has no validator: selects only a stored response that has none either;
//  - an ETag in the 304 that is not a valid entity-tag matches nothing.
// When it returns false the 304 must not be used to update the stored response, and (if the cache
// made the request) the cache has to fetch the full response.
bool not_modified_selects(const http::Headers& stored, const http::Headers& resp_304);

// §4.3.4 for a 304 answering a conditional request the cache itself made from `stored`'s
// validators alone (the client's own preconditions removed): the request named one stored
// response, so the 304 selects it unless it carries a validator that contradicts it:
//  - an ETag that is not a valid entity-tag;
//  - an ETag, when `stored` has one too, that does not match it weakly (the origin compared our
//    If-None-Match weakly, RFC 9110 §13.1.2);
//  - otherwise a Last-Modified, when `stored` has one too, that differs from it.
// A 304 that repeats no validator, or only one `stored` lacks, selects `stored`: in practice
// origins send 304s without validators, and fetching again would only repeat the request.
bool not_modified_selects_validated(const http::Headers& stored, const http::Headers& resp_304);

// §4.3.5: after a 200 response to a HEAD request the cache made, may a stored GET response be
// updated from it (update_stored_headers)? True when the HEAD response carries at least one
// validator, every validator it carries (ETag, Last-Modified) has the same value in the stored
// response, and its Content-Length, if any, equals `stored_body_size`. Otherwise the stored
// response "SHOULD be considered stale" (the caller marks it so).
bool head_response_freshens(const http::Headers& stored, const http::Headers& head_response,
                            std::uint64_t stored_body_size);

// §3.1: removes from a response about to be stored the fields a cache must not store: Connection
// and the fields it lists, the hop-by-hop fields of RFC 9110 §7.6.1, Proxy-Authenticate,
// Proxy-Authentication-Info, Proxy-Authorization, and in a shared cache the fields named by
// private="..." (no-cache="..." fields may be stored; they force revalidation instead).
void remove_unstorable_fields(http::Headers& response, bool shared = true);

}  // namespace cachefwd::cache::policy
