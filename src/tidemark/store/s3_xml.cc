#include "tidemark/store/s3_xml.h"

#include <cstdlib>

#include "tidemark/util/strings.h"

namespace tidemark::store {

namespace {

constexpr size_t kMaxBody = size_t{64} << 20;
constexpr int kMaxDepth = 32;

class Parser {
 public:
  explicit Parser(std::string_view body) : body_(body) {}

  util::Result<XmlElement> Document() {
    if (body_.size() > kMaxBody) return Error("the body is over 64 MiB");
    if (util::StartsWith(body_, "\xEF\xBB\xBF")) pos_ = 3;  // a UTF-8 byte order mark
    TM_TRY(SkipMisc());
    if (!Peek('<')) return Error("no root element");
    XmlElement root;
    TM_TRY(Element(root, 0));
    TM_TRY(SkipMisc());
    if (pos_ != body_.size()) return Error("text after the root element");
    return root;
  }

 private:
  tl::unexpected<util::Error> Error(const std::string& what) const {
    return util::StepError("unreadable S3 XML at byte " + std::to_string(pos_) + ": " + what);
  }

  bool Peek(char c) const { return pos_ < body_.size() && body_[pos_] == c; }
  bool At(std::string_view text) const { return body_.substr(pos_, text.size()) == text; }

  void SkipSpace() {
    while (pos_ < body_.size() && (body_[pos_] == ' ' || body_[pos_] == '\t' ||
                                   body_[pos_] == '\n' || body_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // Skips to just after `end`; false when it never comes.
  bool SkipPast(std::string_view end) {
    const size_t at = body_.find(end, pos_);
    if (at == std::string_view::npos) return false;
    pos_ = at + end.size();
    return true;
  }

  // Whitespace, comments, processing instructions and the declaration, before and after
  // the root.
  util::Status SkipMisc() {
    for (;;) {
      SkipSpace();
      if (At("<?")) {
        if (!SkipPast("?>")) return Error("an unterminated processing instruction");
      } else if (At("<!--")) {
        if (!SkipPast("-->")) return Error("an unterminated comment");
      } else {
        return {};
      }
    }
  }

  static bool NameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
  }

  util::Result<std::string> Name() {
    const size_t start = pos_;
    while (pos_ < body_.size() && NameChar(body_[pos_])) ++pos_;
    if (pos_ == start) return Error("a tag without a name");
    return std::string(body_.substr(start, pos_ - start));
  }

  // Appends the text of `raw` with its references resolved.
  util::Status Text(std::string_view raw, std::string& out) {
    for (size_t i = 0; i < raw.size();) {
      if (raw[i] != '&') {
        out += raw[i++];
        continue;
      }
      const size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos || semi - i > 12) return Error("a bad reference");
      const std::string_view ref = raw.substr(i + 1, semi - i - 1);
      if (ref == "amp")
        out += '&';
      else if (ref == "lt")
        out += '<';
      else if (ref == "gt")
        out += '>';
      else if (ref == "quot")
        out += '"';
      else if (ref == "apos")
        out += '\'';
      else if (ref.size() >= 2 && ref[0] == '#')
        TM_TRY(CodePoint(ref.substr(1), out));
      else
        return Error("an unknown entity &" + std::string(ref) + ";");
      i = semi + 1;
    }
    return {};
  }

  // "#65" or "#x41": appended as UTF-8.
  util::Status CodePoint(std::string_view digits, std::string& out) {
    const bool hex = digits[0] == 'x';
    if (hex) digits.remove_prefix(1);
    if (digits.empty()) return Error("an empty character reference");
    uint32_t value = 0;
    for (char c : digits) {
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (hex && c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return Error("a bad character reference");
      value = value * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      if (value > 0x10FFFF) return Error("a character reference beyond Unicode");
    }
    if (value == 0 || (value >= 0xD800 && value <= 0xDFFF)) {
      return Error("a character reference to no character");
    }
    if (value < 0x80) {
      out += static_cast<char>(value);
    } else if (value < 0x800) {
      out += static_cast<char>(0xC0 | (value >> 6));
      out += static_cast<char>(0x80 | (value & 0x3F));
    } else if (value < 0x10000) {
      out += static_cast<char>(0xE0 | (value >> 12));
      out += static_cast<char>(0x80 | ((value >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (value & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (value >> 18));
      out += static_cast<char>(0x80 | ((value >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((value >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (value & 0x3F));
    }
    return {};
  }

  // Attributes up to '>' or "/>"; their values are skipped. Returns whether the tag
  // closed itself.
  util::Result<bool> Attributes() {
    for (;;) {
      SkipSpace();
      if (At("/>")) {
        pos_ += 2;
        return true;
      }
      if (Peek('>')) {
        ++pos_;
        return false;
      }
      TM_TRY(Name());
      SkipSpace();
      if (!Peek('=')) return Error("an attribute without a value");
      ++pos_;
      SkipSpace();
      if (!Peek('"') && !Peek('\'')) return Error("an unquoted attribute value");
      const char quote = body_[pos_++];
      const size_t end = body_.find(quote, pos_);
      if (end == std::string_view::npos) return Error("an unterminated attribute value");
      pos_ = end + 1;
    }
  }

  static std::string LocalName(const std::string& name) {
    const size_t colon = name.rfind(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
  }

  // The element starting at '<'.
  util::Status Element(XmlElement& element, int depth) {
    if (depth >= kMaxDepth) return Error("nesting deeper than 32");
    ++pos_;  // '<'
    TM_TRY_ASSIGN(std::string name, Name());
    element.name = LocalName(name);
    TM_TRY_ASSIGN(bool closed, Attributes());
    if (closed) return {};
    for (;;) {
      const size_t lt = body_.find('<', pos_);
      if (lt == std::string_view::npos) return Error("<" + name + "> is never closed");
      TM_TRY(Text(body_.substr(pos_, lt - pos_), element.text));
      pos_ = lt;
      if (At("</")) {
        pos_ += 2;
        TM_TRY_ASSIGN(std::string end, Name());
        if (end != name) return Error("</" + end + "> closes <" + name + ">");
        SkipSpace();
        if (!Peek('>')) return Error("a bad closing tag");
        ++pos_;
        return {};
      }
      if (At("<!--")) {
        if (!SkipPast("-->")) return Error("an unterminated comment");
      } else if (At("<![CDATA[")) {
        pos_ += 9;
        const size_t end = body_.find("]]>", pos_);
        if (end == std::string_view::npos) return Error("an unterminated CDATA section");
        element.text.append(body_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (At("<?")) {
        if (!SkipPast("?>")) return Error("an unterminated processing instruction");
      } else if (At("<!")) {
        return Error("a document type or other declaration inside an element");
      } else {
        element.children.emplace_back();
        TM_TRY(Element(element.children.back(), depth + 1));
      }
    }
  }

  std::string_view body_;
  size_t pos_ = 0;
};

util::Result<int64_t> ParseSize(const std::string& text, const std::string& key) {
  if (text.empty() || text.size() > 19 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return util::StepError("S3 listed " + key + " with the size \"" + text + "\"");
  }
  return std::strtoll(text.c_str(), nullptr, 10);
}

std::string Unquoted(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

// An <Error> document as an error; the codes that mean "try again later" are retryable.
util::Error ErrorOf(const XmlElement& root) {
  const std::string code = root.ChildText("Code");
  return util::Error(util::ErrorCategory::kStep,
                     "S3 error " + code + ": " + root.ChildText("Message"),
                     S3CodeIsRetryable(code));
}

util::Result<XmlElement> Root(std::string_view body, std::string_view wanted) {
  TM_TRY_ASSIGN(XmlElement root, ParseXml(body));
  if (root.name == "Error") return tl::unexpected(ErrorOf(root));
  if (root.name != wanted) {
    return util::StepError("S3 sent <" + root.name + "> where <" + std::string(wanted) +
                           "> was expected");
  }
  return root;
}

}  // namespace

const XmlElement* XmlElement::Child(std::string_view wanted) const {
  for (const XmlElement& child : children) {
    if (child.name == wanted) return &child;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view wanted) const {
  const XmlElement* child = Child(wanted);
  return child == nullptr ? std::string() : child->text;
}

util::Result<XmlElement> ParseXml(std::string_view body) { return Parser(body).Document(); }

std::optional<S3Error> ParseS3Error(std::string_view body) {
  auto root = ParseXml(body);
  if (!root || root->name != "Error") return std::nullopt;
  return S3Error{root->ChildText("Code"), root->ChildText("Message"), root->ChildText("RequestId")};
}

bool S3CodeIsRetryable(std::string_view code) {
  return code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "RequestTimeout" || code == "ConditionalRequestConflict";
}

util::Result<S3ListPage> ParseListObjectsV2(std::string_view body) {
  TM_TRY_ASSIGN(XmlElement root, Root(body, "ListBucketResult"));
  S3ListPage page;
  for (const XmlElement& child : root.children) {
    if (child.name == "Contents") {
      S3Object object;
      object.key = child.ChildText("Key");
      if (object.key.empty()) return util::StepError("S3 listed an object without a key");
      TM_TRY_ASSIGN(object.size, ParseSize(child.ChildText("Size"), object.key));
      object.last_modified = child.ChildText("LastModified");
      object.etag = Unquoted(child.ChildText("ETag"));
      page.objects.push_back(std::move(object));
    } else if (child.name == "CommonPrefixes") {
      page.common_prefixes.push_back(child.ChildText("Prefix"));
    }
  }
  page.truncated = root.ChildText("IsTruncated") == "true";
  page.next_token = root.ChildText("NextContinuationToken");
  if (page.truncated && page.next_token.empty()) {
    return util::StepError("S3 sent a truncated listing without a continuation token");
  }
  return page;
}

util::Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  TM_TRY_ASSIGN(XmlElement root, Root(body, "InitiateMultipartUploadResult"));
  std::string id = root.ChildText("UploadId");
  if (id.empty()) return util::StepError("S3 started a multipart upload without an UploadId");
  return id;
}

util::Result<std::string> ParseCompleteOrCopy(std::string_view body) {
  TM_TRY_ASSIGN(XmlElement root, ParseXml(body));
  if (root.name == "Error") return tl::unexpected(ErrorOf(root));
  if (root.name != "CompleteMultipartUploadResult" && root.name != "CopyObjectResult" &&
      root.name != "CopyPartResult") {
    return util::StepError("S3 sent <" + root.name + "> where a completion was expected");
  }
  return Unquoted(root.ChildText("ETag"));
}

util::Result<std::vector<S3DeleteFailure>> ParseDeleteResult(std::string_view body) {
  TM_TRY_ASSIGN(XmlElement root, Root(body, "DeleteResult"));
  std::vector<S3DeleteFailure> failures;
  for (const XmlElement& child : root.children) {
    if (child.name != "Error") continue;
    failures.push_back(
        {child.ChildText("Key"), child.ChildText("Code"), child.ChildText("Message")});
  }
  return failures;
}

}  // namespace tidemark::store
