// Differential test: our SigV4 signer against botocore's (Debian's python3-botocore) on a few hundred
// generated requests. tests/tools/botocore_sign.py signs the same requests at the same instant.
//
// Conventions both sides follow (they are the contract of HttpRequest::url):
// - The URL path is already URI-encoded (uri_encode(key, false)); S3 signs it verbatim, other services
//   normalize it and encode it again. A few non-S3 cases put raw UTF-8 and spaces in the path, which
//   both sides encode once.
// - The query is in canonical form (names and values uri_encode(x, true)). botocore signs a URL's query
//   as written, while our signer decodes and re-encodes; the two agree exactly on canonical input.
// - No header botocore treats specially: User-Agent, Expect, X-Amzn-Trace-Id (never signed by
//   botocore), Date (botocore signs it instead of X-Amz-Date), X-Amz-Date, Authorization.
// - S3 paths are never empty (botocore would sign "" where SigV4 says "/"), queries have no empty
//   "&&" parameters (botocore would sign "=").

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include "aws/sigv4.h"
#include "core/hash.h"
#include "core/time.h"

namespace es::aws {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAmzDate = "20150830T123600Z";
constexpr std::int64_t kNow = 1'440'938'160LL * kMicrosPerSecond;  // 2015-08-30T12:36:00Z
constexpr int kCases = 240;

/// A fixed-sequence generator (std distributions differ between standard libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ull;  // splitmix64
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  template <typename T, std::size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }

 private:
  std::uint64_t state_;
};

struct Case {
  int id = 0;
  HttpRequest request;
  std::string body;
  SigningParams params;
  Credentials credentials;
  bool unsigned_payload = false;
};

const char* const kPathSegments[] = {
    "events",
    "2026",
    "a b",
    "\xe1\x88\xb4",
    "caf\xc3\xa9",
    "\xf0\x9f\x98\x80",
    "!*'()",
    ";:@&=",
    "+$,",
    "?#[]",
    "%",
    "%20",
    "100%",
    "~user",
    "a.json",
    "key with  spaces",
    "UPPER",
    "-_.~",
    "x=y&z",
    ".",
    "..",
    "",
    "a+b",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "tab\tand\"q\"",
    "<>{}|\\^`",
};
const char* const kQueryNames[] = {
    "list-type",      "prefix",       "a",           "A",     "b",   "uploads", "x-id",
    "key with space", "\xe1\x88\xb4", "caf\xc3\xa9", "!*'()", "a=b", "&",       "%",
    "Param-3",        "max-keys",     "~t",
};
const char* const kQueryValues[] = {
    "",
    "1",
    "2",
    "value",
    "a b",
    "\xe1\x88\xb4",
    "caf\xc3\xa9",
    "/dir/",
    "%20",
    "+",
    "=&?#",
    "!*'();:@&=+$,?#[]",
    "x y  z",
    "-_.~",
    "\xf0\x9f\x98\x80",
};
const char* const kHeaderNames[] = {
    "X-Amz-Meta-Client", "x-amz-meta-BAR", "Content-Type", "My-Header",
    "X-Custom",          "Content-MD5",    "X-Amz-Target", "x-amz-server-side-encryption",
    "Cache-Control",     "Content-Length", "X-DUP",        "x-dup",
};
const char* const kHeaderValues[] = {
    "value",     "  leading",           "trailing  ", "  both  ", "inner   run  of   spaces",
    "tab\there", "\t tabs \t",          "",           "   ",      "application/x-amz-json-1.0",
    "a,b,c",     "\"quoted   string\"", "MiXeD CaSe", "x=1; y=2", "AES256",
};
const char* const kTokens[] = {
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPf+oLxBA==",
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
    "token/with+plus=",
};
const char* const kS3Hosts[] = {
    "https://bucket.s3.us-east-1.amazonaws.com",
    "https://client-7.s3.eu-west-1.amazonaws.com:443",
    "http://127.0.0.1:4568/eaglesense-client-1",
    "http://LocalHost:4568/bucket",
    "http://[::1]:9000/bucket",
};
const char* const kDynamoHosts[] = {
    "https://dynamodb.us-east-1.amazonaws.com",
    "http://127.0.0.1:8000",
    "http://localhost:80",
    "https://DynamoDB.eu-west-1.amazonaws.com:8443",
};
const char* const kMethods[] = {"GET", "PUT", "POST", "HEAD", "DELETE"};

std::string random_body(Rng& rng) {
  switch (rng.below(4)) {
    case 0:
      return "";
    case 1:
      return R"({"TableName":"events","Limit":25})";
    case 2: {
      std::string b;
      const std::size_t n = 1 + rng.below(300);
      for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<char>(rng.below(256)));
      return b;
    }
    default:
      return "[\n{\"eventId\":\"\xe1\x88\xb4\"}\n]\n";
  }
}

Case generate_case(int id, Rng& rng) {
  Case c;
  c.id = id;
  const bool s3 = rng.chance(50);
  c.params.s3_rules = s3;
  c.params.service = s3 ? "s3" : "dynamodb";
  c.params.region = rng.chance(70) ? "us-east-1" : "eu-west-1";
  c.credentials.access_key_id = "AKIDEXAMPLE";
  c.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  if (rng.chance(50)) c.credentials.session_token = rng.pick(kTokens);
  c.request.method = rng.pick(kMethods);

  // Path: a handful of raw segments, encoded as our S3 addressing encodes keys.
  std::string raw_path;
  const std::size_t segments = (s3 ? 1 : 0) + rng.below(5);
  for (std::size_t i = 0; i < segments; ++i) raw_path += "/" + std::string(rng.pick(kPathSegments));
  if (rng.chance(20)) raw_path += "/";
  std::string path;
  if (!s3 && rng.chance(20)) {
    // Raw form: only what would end the path is escaped.
    for (const char ch : raw_path) {
      if (ch == '?' || ch == '#') {
        path += ch == '?' ? "%3F" : "%23";
      } else if (ch == '\t' || ch == '\\' || ch == '"' || ch == '<' || ch == '>' || ch == '{' || ch == '}' ||
                 ch == '|' || ch == '^' || ch == '`') {
        path += uri_encode(std::string(1, ch), true);
      } else {
        path += ch;
      }
    }
  } else {
    path = uri_encode(raw_path, false);
  }
  if (s3 && path.empty()) path = "/";
  const std::string base = s3 ? rng.pick(kS3Hosts) : rng.pick(kDynamoHosts);
  if (!path.empty() && path.front() != '/') path.insert(0, "/");
  c.request.url = base + path;

  const std::size_t params = rng.below(5);
  std::string query;
  for (std::size_t i = 0; i < params; ++i) {
    if (!query.empty()) query += '&';
    const std::string name = uri_encode(rng.pick(kQueryNames), true);
    query += name;
    switch (rng.below(4)) {
      case 0:
        break;  // no '=' at all ("uploads")
      case 1:
        query += '=';  // empty value
        break;
      default:
        query += '=' + uri_encode(rng.pick(kQueryValues), true);
    }
    if (rng.chance(15)) query += '&' + name + "=" + uri_encode(rng.pick(kQueryValues), true);  // repeated
  }
  if (!query.empty()) c.request.url += "?" + query;

  const std::size_t headers = rng.below(5);
  for (std::size_t i = 0; i < headers; ++i) {
    c.request.headers.emplace_back(rng.pick(kHeaderNames), rng.pick(kHeaderValues));
  }
  if (rng.chance(10)) c.request.headers.emplace_back("HOST", "custom.example.com:8080");
  if (s3 && rng.chance(20)) {
    c.unsigned_payload = true;
    c.request.headers.emplace_back("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD");
  }
  if (!s3 && rng.chance(5)) c.request.headers.emplace_back("x-amz-content-sha256", "UNSIGNED-PAYLOAD");

  c.body = random_body(rng);
  return c;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (b < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", b);
      out += buf;
    } else {
      out += ch;  // UTF-8 passes through
    }
  }
  out += '"';
}

std::string to_json_line(const Case& c) {
  std::string out = "{\"id\":" + std::to_string(c.id) + ",\"method\":";
  append_json_string(out, c.request.method);
  out += ",\"url\":";
  append_json_string(out, c.request.url);
  out += ",\"headers\":[";
  for (std::size_t i = 0; i < c.request.headers.size(); ++i) {
    if (i > 0) out += ',';
    out += '[';
    append_json_string(out, c.request.headers[i].first);
    out += ',';
    append_json_string(out, c.request.headers[i].second);
    out += ']';
  }
  out += "],\"body_b64\":";
  append_json_string(out, base64_encode(c.body));
  out += ",\"service\":";
  append_json_string(out, c.params.service);
  out += ",\"region\":";
  append_json_string(out, c.params.region);
  out += std::string(",\"s3\":") + (c.params.s3_rules ? "true" : "false");
  out += ",\"access_key\":";
  append_json_string(out, c.credentials.access_key_id);
  out += ",\"secret_key\":";
  append_json_string(out, c.credentials.secret_access_key);
  out += ",\"token\":";
  append_json_string(out, c.credentials.session_token);
  out += std::string(",\"unsigned_payload\":") + (c.unsigned_payload ? "true" : "false");
  out += ",\"amz_date\":";
  append_json_string(out, kAmzDate);
  out += "}\n";
  return out;
}

/// Line-by-line comparison of two multi-line strings, for failure messages.
std::string line_diff(std::string_view ours, std::string_view theirs) {
  const auto split = [](std::string_view s) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= s.size()) {
      const auto nl = std::min(s.find('\n', start), s.size());
      lines.emplace_back(s.substr(start, nl - start));
      start = nl + 1;
    }
    return lines;
  };
  const auto a = split(ours);
  const auto b = split(theirs);
  std::string out;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string x = i < a.size() ? a[i] : "<none>";
    const std::string y = i < b.size() ? b[i] : "<none>";
    if (x == y) {
      out += "    " + x + "\n";
    } else {
      out += "  - ours:     " + x + "\n  + botocore: " + y + "\n";
    }
  }
  return out;
}

struct BotocoreResult {
  std::string canonical_request, string_to_sign, signature, authorization;
};

TEST(SigV4Botocore, AgreesOnGeneratedRequests) {
  const std::string python = "/usr/bin/python3";
  const std::string script = std::string(EAGLESENSE_SOURCE_DIR) + "/tests/tools/botocore_sign.py";
  ASSERT_EQ(access(python.c_str(), X_OK), 0)
      << python << " is missing: the differential SigV4 test needs Debian's python with botocore "
      << "(apt-get install python3-botocore)";
  ASSERT_TRUE(fs::exists(script)) << script;

  Rng rng(20150830);
  std::vector<Case> cases;
  std::string input;
  for (int i = 0; i < kCases; ++i) cases.push_back(generate_case(i, rng));
  for (Case& c : cases) {
    c.request.body = c.body;  // views into the case: only once the vector no longer grows
    input += to_json_line(c);
  }

  const fs::path dir = fs::temp_directory_path() / ("eaglesense-sigv4-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path in_path = dir / "requests.jsonl";
  const fs::path out_path = dir / "botocore.jsonl";
  const fs::path err_path = dir / "stderr.txt";
  std::ofstream(in_path, std::ios::binary) << input;

  const std::string command =
      python + " " + script + " " + in_path.string() + " > " + out_path.string() + " 2> " + err_path.string();
  const int status = std::system(command.c_str());
  std::ifstream err_in(err_path);
  const std::string err((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(status, 0) << "botocore_sign.py failed (" << status << "): " << err
                       << "\nThe differential SigV4 test needs botocore for /usr/bin/python3: "
                       << "apt-get install python3-botocore";

  simdjson::dom::parser parser;
  std::map<int, BotocoreResult> reference;
  std::ifstream out_in(out_path);
  for (std::string line; std::getline(out_in, line);) {
    if (line.empty()) continue;
    const simdjson::dom::element doc = parser.parse(line);
    BotocoreResult r;
    r.canonical_request = std::string(std::string_view(doc["canonical_request"]));
    r.string_to_sign = std::string(std::string_view(doc["string_to_sign"]));
    r.signature = std::string(std::string_view(doc["signature"]));
    r.authorization = std::string(std::string_view(doc["authorization"]));
    reference[static_cast<int>(int64_t(doc["id"]))] = std::move(r);
  }
  ASSERT_EQ(reference.size(), cases.size()) << err;
  fs::remove_all(dir);

  int agreed = 0, s3 = 0, with_token = 0, with_query = 0;
  for (Case& c : cases) {
    const std::string url = c.request.url;
    const SigningArtifacts ours = sign_request(c.request, c.credentials, c.params, kNow);
    const BotocoreResult& theirs = reference.at(c.id);
    const bool same = ours.canonical_request == theirs.canonical_request &&
                      ours.string_to_sign == theirs.string_to_sign && ours.signature == theirs.signature &&
                      ours.authorization == theirs.authorization;
    if (same) {
      ++agreed;
      s3 += c.params.s3_rules ? 1 : 0;
      with_token += c.credentials.session_token.empty() ? 0 : 1;
      with_query += url.find('?') != std::string::npos ? 1 : 0;
      continue;
    }
    ADD_FAILURE() << "request " << c.id << " (" << c.params.service << ") " << c.request.method << " " << url
                  << "\ncanonical request:\n"
                  << line_diff(ours.canonical_request, theirs.canonical_request) << "signature ours "
                  << ours.signature << " botocore " << theirs.signature
                  << "\nauthorization ours:     " << ours.authorization
                  << "\nauthorization botocore: " << theirs.authorization;
  }
  EXPECT_EQ(agreed, kCases);
  // The generator must keep covering both rule sets, tokens and queries.
  EXPECT_GT(s3, kCases / 4);
  EXPECT_GT(kCases - s3, kCases / 4);
  EXPECT_GT(with_token, kCases / 4);
  EXPECT_GT(with_query, kCases / 2);
  std::printf("botocore agreed on %d of %d requests (%d S3, %d with session token, %d with query)\n", agreed,
              kCases, s3, with_token, with_query);
}

}  // namespace
}  // namespace es::aws
