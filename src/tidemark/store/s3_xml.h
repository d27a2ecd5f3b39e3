// The XML bodies of the S3 API that tidemark reads: ListObjectsV2 results, error
// responses (which S3 may also send with status 200, e.g. for CompleteMultipartUpload
// and CopyObject), InitiateMultipartUpload, CompleteMultipartUpload, CopyObject and
// DeleteObjects results. A small, strict reader of the subset S3 writes: elements,
// text, the five named entities and numeric character references; attributes,
// comments, processing instructions and the declaration are skipped. Anything else,
// unbalanced tags, nesting deeper than 32 or a body over 64 MiB is an error, never a
// crash: servers are not trusted (the parser has a fuzz target).
//
// Thread-safety: pure functions.

#ifndef TIDEMARK_STORE_S3_XML_H_
#define TIDEMARK_STORE_S3_XML_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tidemark/util/error.h"

namespace tidemark::store {

// One element: its local name (a prefix such as "s3:" is dropped), its text (the
// concatenated character data directly inside it) and its child elements.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<XmlElement> children;

  // The first child named `name`, or nullptr.
  const XmlElement* Child(std::string_view name) const;
  // The text of the first child named `name`, or "" when there is none.
  std::string ChildText(std::string_view name) const;
};

// Parses a whole document; the root element is returned. Errors are kStep, saying where.
util::Result<XmlElement> ParseXml(std::string_view body);

// <Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>
struct S3Error {
  std::string code;  // "NoSuchKey", "SlowDown", "InternalError", …
  std::string message;
  std::string request_id;
};
// The error in `body`, or nullopt when the body is not an <Error> document.
std::optional<S3Error> ParseS3Error(std::string_view body);

// Whether an error code means "try again later" (SlowDown, InternalError,
// ServiceUnavailable, RequestTimeout; ConditionalRequestConflict, which S3 sends when
// another conditional write to the key was under way).
bool S3CodeIsRetryable(std::string_view code);

struct S3Object {
  std::string key;
  int64_t size = 0;
  std::string last_modified;  // ISO 8601, as the server wrote it
  std::string etag;           // without quotes
};

struct S3ListPage {
  std::vector<S3Object> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken when truncated
};
// A ListObjectsV2 result. A truncated page without a continuation token is an error
// (listing on would repeat forever).
util::Result<S3ListPage> ParseListObjectsV2(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult.
util::Result<std::string> ParseInitiateMultipartUpload(std::string_view body);

// The ETag (without quotes) of a CompleteMultipartUploadResult or CopyObjectResult. An
// <Error> document in their place (S3 sends those with status 200) is returned as an
// error whose message holds the code and message.
util::Result<std::string> ParseCompleteOrCopy(std::string_view body);

// A DeleteObjects result: the keys that could not be deleted, with their codes.
struct S3DeleteFailure {
  std::string key;
  std::string code;
  std::string message;
};
util::Result<std::vector<S3DeleteFailure>> ParseDeleteResult(std::string_view body);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_S3_XML_H_
