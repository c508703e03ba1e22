#pragma once
/// Objects worth keeping between uses (buffers whose pages are faulted in), lent to at most `limit`
/// holders at once. Fit for work that holds an object only while it computes: with one object per
/// hardware thread in use, threads that mostly wait on the network share what they would each keep.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace es {

template <class T>
class LeasePool {
 public:
  explicit LeasePool(int limit) : limit_(limit < 1 ? 1 : limit) {}
  LeasePool(const LeasePool&) = delete;
  LeasePool& operator=(const LeasePool&) = delete;

  /// Waits until fewer than `limit` objects are lent; an idle object if there is one, else a new T.
  [[nodiscard]] std::unique_ptr<T> acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return lent_ < limit_; });
    ++lent_;
    if (idle_.empty()) {
      lock.unlock();
      return std::make_unique<T>();
    }
    std::unique_ptr<T> item = std::move(idle_.back());
    idle_.pop_back();
    return item;
  }

  /// Takes a lent object back, kept for the next acquire() unless `keep` is false.
  void give_back(std::unique_ptr<T> item, bool keep = true) {
    {
      std::lock_guard lock(mutex_);
      --lent_;
      if (keep && item) idle_.push_back(std::move(item));
    }
    available_.notify_one();
  }

  /// Frees the idle objects (lent ones are freed when given back with keep = false).
  void clear_idle() {
    std::vector<std::unique_ptr<T>> freed;  // destroyed outside the lock
    std::lock_guard lock(mutex_);
    freed.swap(idle_);
  }

  /// An object of the pool for the lifetime of the lease.
  class Lease {
   public:
    explicit Lease(LeasePool& pool) : pool_(pool), item_(pool.acquire()) {}
    ~Lease() { pool_.give_back(std::move(item_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    T& operator*() const noexcept { return *item_; }
    T* operator->() const noexcept { return item_.get(); }

   private:
    LeasePool& pool_;
    std::unique_ptr<T> item_;
  };

 private:
  const int limit_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<T>> idle_;
  int lent_ = 0;
};

}  // namespace es
