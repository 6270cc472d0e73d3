#pragma once
// A standard allocator over a std::pmr::memory_resource, for containers that live and die with
// one owner holding a std::pmr::monotonic_buffer_resource: their many small blocks come from
// one or two larger ones and are all freed at once with the owner. Unlike
// std::pmr::polymorphic_allocator it is assignable and propagates on copy, move and swap, as
// Beast's basic_fields requires of its allocator. Default-constructed, it uses the default
// resource (new/delete). The resource must outlive every container using the allocator.
// Thread-safety: that of the resource (a monotonic arena is for one thread at a time).

#include <cstddef>
#include <memory_resource>
#include <type_traits>

namespace sluice {

template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  ArenaAllocator() noexcept : resource_(std::pmr::get_default_resource()) {}
  explicit ArenaAllocator(std::pmr::memory_resource* resource) noexcept : resource_(resource) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : resource_(other.resource()) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) { return static_cast<T*>(resource_->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { resource_->deallocate(p, n * sizeof(T), alignof(T)); }
  std::pmr::memory_resource* resource() const noexcept { return resource_; }

  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return resource_ == other.resource();
  }

 private:
  std::pmr::memory_resource* resource_;
};

}  // namespace sluice
