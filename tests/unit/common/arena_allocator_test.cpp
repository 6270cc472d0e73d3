// Unit tests of src/common/arena_allocator: Beast fields over a monotonic arena take their
// memory from it in a block or two (the point of the allocator), behave like ordinary fields
// (find, set, erase, iteration order), and allocators compare, copy and rebind as required.

#include "common/arena_allocator.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/fields.hpp>

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <utility>
#include <vector>

namespace sluice {
namespace {

namespace bhttp = boost::beast::http;
using ArenaFields = bhttp::basic_fields<ArenaAllocator<char>>;

// Counts the blocks an arena asks of its upstream.
class CountingResource final : public std::pmr::memory_resource {
 public:
  int allocations = 0;
  int deallocations = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    ++allocations;
    return std::pmr::new_delete_resource()->allocate(bytes, align);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    ++deallocations;
    std::pmr::new_delete_resource()->deallocate(p, bytes, align);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
};

TEST(ArenaAllocator, TwentyFieldsTakeOneBlockFreedWithTheArena) {
  CountingResource counting;
  {
    std::pmr::monotonic_buffer_resource arena(4096, &counting);
    ArenaFields fields{ArenaAllocator<char>(&arena)};
    for (int i = 0; i < 20; ++i) {
      fields.insert("anthropic-ratelimit-field-" + std::to_string(i), "2026-11-26T20:27:23Z");
    }
    EXPECT_EQ(counting.allocations, 1);
    EXPECT_EQ(fields["anthropic-ratelimit-field-7"], "2026-11-26T20:27:23Z");
    EXPECT_EQ(counting.deallocations, 0);
  }
  EXPECT_EQ(counting.deallocations, counting.allocations);
}

TEST(ArenaAllocator, FieldsBehaveAsUsual) {
  std::pmr::monotonic_buffer_resource arena(256);  // small: the arena grows as needed
  ArenaFields f{ArenaAllocator<char>(&arena)};
  f.set(bhttp::field::content_type, "application/json");
  f.insert("request-id", "req_1");
  f.insert("Set-Cookie", "a=1");
  f.insert("set-cookie", "b=2");
  f.set("request-id", "req_2");  // replaces
  f.erase(bhttp::field::content_type);
  EXPECT_EQ(f.count("set-cookie"), 2u);
  EXPECT_EQ(f["request-id"], "req_2");
  EXPECT_EQ(f.find(bhttp::field::content_type), f.end());
  std::vector<std::string> names;
  for (const auto& field : f) names.emplace_back(field.name_string());
  EXPECT_EQ(names, (std::vector<std::string>{"Set-Cookie", "set-cookie", "request-id"}));

  ArenaFields moved = std::move(f);  // the allocator goes with the fields
  EXPECT_EQ(moved["request-id"], "req_2");
  EXPECT_EQ(moved.get_allocator().resource(), &arena);
}

TEST(ArenaAllocator, ComparesByResourceAndRebinds) {
  std::pmr::monotonic_buffer_resource a;
  std::pmr::monotonic_buffer_resource b;
  ArenaAllocator<char> ca(&a);
  ArenaAllocator<int> ia(ca);
  EXPECT_EQ(ia.resource(), &a);
  EXPECT_TRUE(ca == ia);
  EXPECT_FALSE(ca == ArenaAllocator<char>(&b));
  EXPECT_EQ(ArenaAllocator<char>().resource(), std::pmr::get_default_resource());
  int* p = ia.allocate(4);
  p[3] = 7;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(int), 0u);
  ia.deallocate(p, 4);
}

}  // namespace
}  // namespace sluice
