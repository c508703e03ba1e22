#pragma once
// Internal to the transcoder (src/core/transcode/): the simdjson parse spaces the DOM path borrows,
// shared by all PageDecoders of the process.

#include <atomic>
#include <cstddef>

#include <simdjson.h>

#include "core/lease_pool.h"

namespace es::transcode {

// What parsing a page needs: a DOM parser (structural index) and the document (tape and strings),
// ~3.3x the page: 5.8 MB for a 1.75 MB Scan page.
struct ParseSpace {
  simdjson::dom::parser parser;
  simdjson::dom::document doc;

  // simdjson grows a parser to exactly the length of a longer document, so pages of slowly rising
  // sizes (a reader's pages differ by a few bytes around 1.75 MB) reallocated the tape, string and
  // index buffers again and again, each new buffer faulting in fresh pages (24,000 of the 111,000
  // page faults of a 200,000-event run). A quarter more settles it at the first page; capacity
  // the parser never touches costs address space, not memory.
  [[nodiscard]] bool reserve_for(std::size_t len);
};

// The parse spaces of all PageDecoders of the process, at most one per hardware thread in use at
// once. Readers spend most of their time waiting for DynamoDB; a parse space per reader thread
// (8 by default) kept 8 x 5.8 MB resident for what the cores can use 2 (here) at a time. A decode()
// waiting for a space is a decode the cores could not have run anyway. Idle spaces are freed when the
// last PageDecoder goes, so nothing stays resident after an hour's read.
class ParseSpaces {
 public:
  static ParseSpaces& instance();
  LeasePool<ParseSpace>& pool() noexcept { return pool_; }
  void attach() noexcept { users_.fetch_add(1); }
  void detach();

 private:
  ParseSpaces();
  LeasePool<ParseSpace> pool_;
  std::atomic<int> users_{0};
};

}  // namespace es::transcode
