// Known-answer tests for core/hash.h: FIPS 180-2, RFC 1321, RFC 4231, RFC 4648 and the CRC-32 check value.

#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "core/hash.h"

namespace es {
namespace {

std::string hex_to_bytes(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(hex_encode(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_encode(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalMatchesOneShotAndResets) {
  const std::string data(100'000, 'a');
  Sha256 h;
  for (std::size_t i = 0; i < data.size(); i += 777) h.update(std::string_view(data).substr(i, 777));
  EXPECT_EQ(h.finish(), sha256(data));
  h.update("abc");
  EXPECT_EQ(h.finish(), sha256("abc"));
  EXPECT_EQ(h.finish(), sha256(""));
}

TEST(Sha256, MoveKeepsState) {
  Sha256 a;
  a.update("ab");
  Sha256 b(std::move(a));
  b.update("c");
  Sha256 c;
  c = std::move(b);
  EXPECT_EQ(c.finish(), sha256("abc"));
}

TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(hex_encode(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex_encode(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex_encode(md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
}

struct HmacCase {
  std::string key_hex;
  std::string data;
  std::string expected;
};

TEST(HmacSha256, Rfc4231Vectors) {
  const HmacCase cases[] = {
      {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"4a656665", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(40, 'a'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"0102030405060708090a0b0c0d0e0f10111213141516171819", std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      // Key longer than the block size (131 bytes of 0xaa).
      {std::string(262, 'a'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::string(262, 'a'),
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs "
       "to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(hex_encode(hmac_sha256(hex_to_bytes(c.key_hex), c.data)), c.expected) << c.data;
  }
}

TEST(HmacSha256, EmptyKeyAndData) {
  EXPECT_EQ(hex_encode(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Crc32, CheckValue) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  // DynamoDB's x-amz-crc32 of an empty JSON object response.
  EXPECT_EQ(crc32("{}"), 2745614147u);
}

TEST(Hex, EncodesLowerCase) {
  EXPECT_EQ(hex_encode(std::string_view("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(hex_encode(std::string_view()), "");
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    std::string decoded = "junk";
    ASSERT_TRUE(base64_decode(encoded, decoded)) << encoded;
    EXPECT_EQ(decoded, plain);
  }
}

TEST(Base64, AllByteValuesRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string part = all.substr(0, n);
    std::string decoded;
    ASSERT_TRUE(base64_decode(base64_encode(part), decoded));
    EXPECT_EQ(decoded, part);
  }
  EXPECT_EQ(base64_encode(std::string_view("\xfb\xff", 2)), "+/8=");
}

TEST(Base64, AppendKeepsPrefix) {
  std::string out = "sha256=";
  base64_append(out, "foobar");
  EXPECT_EQ(out, "sha256=Zm9vYmFy");
  const Sha256Digest d = sha256("");
  EXPECT_EQ(base64_encode(d), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST(Base64, DecodeRejectsInvalidInput) {
  const char* bad[] = {
      "Zg",        // missing padding
      "Zg=",       // short padding
      "Z===",      // too much padding
      "Zm9v\n",    // whitespace
      "Zm 9v",     // inner space
      "Zm9*",      // not in the alphabet
      "Zg==Zg==",  // padding in the middle
      "Zm=v",      // data after padding
      "Zh==",      // non-zero unused bits
      "Zm9=",      // non-zero unused bits
      "Zm9v-_==",  // URL-safe alphabet is not standard base64
  };
  for (const char* text : bad) {
    std::string out = "previous";
    EXPECT_FALSE(base64_decode(text, out)) << text;
    EXPECT_TRUE(out.empty()) << text;
  }
}

}  // namespace
}  // namespace es
