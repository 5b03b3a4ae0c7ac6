#include "engine/fetch_pool.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <utility>

#include "base/background_priority.h"

namespace stsync {

struct FetchPool::Queue : WaitSignal {
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<uint64_t, Done>> done;  // in the order they finished
  int running = 0;                             // started, not yet in `done`
  bool stopped = false;

  void Started() {
    std::lock_guard<std::mutex> lock(mu);
    ++running;
  }
  void NotStarted() {
    {
      std::lock_guard<std::mutex> lock(mu);
      --running;
    }
    cv.notify_all();
  }
  void Push(uint64_t id, Done d) {
    {
      std::lock_guard<std::mutex> lock(mu);
      done.emplace_back(id, std::move(d));
      --running;
    }
    cv.notify_all();
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopped = true;
    }
    cv.notify_all();
  }
  // Whether a wait should end: a fetch waits to be taken, or stopped. With
  // `mu` held.
  bool Fired() const { return stopped || !done.empty(); }

  bool fired() const override {
    std::lock_guard<std::mutex> lock(mu);
    return Fired();
  }
  bool WaitUntil(std::chrono::steady_clock::time_point deadline) override {
    std::unique_lock<std::mutex> lock(mu);
    auto ended = [this] { return Fired(); };
    if (deadline == std::chrono::steady_clock::time_point::max()) {
      cv.wait(lock, ended);  // no deadline to convert, or to overflow
    } else {
      cv.wait_until(lock, deadline, ended);
    }
    return !Fired();
  }
  void Settle() override {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return Fired() || running == 0; });
  }
};

FetchPool::FetchPool(ApiClient* client, StopSignal* stop, Clock* clock,
                     int limit)
    : client_(client),
      stop_(stop),
      clock_(clock),
      limit_(limit < 1 ? 1 : limit),
      queue_(std::make_shared<Queue>()) {
  // The callback outlives the pool (a StopSignal keeps its callbacks): it
  // holds the queue, not the pool.
  stop_->OnStop([queue = queue_] { queue->Stop(); });
}

FetchPool::~FetchPool() {
  for (auto& [id, fetch] : fetches_) fetch.thread.join();
}

bool FetchPool::Has(const void* owner) const {
  for (const auto& [id, fetch] : fetches_) {
    if (fetch.owner == owner) return true;
  }
  return false;
}

bool FetchPool::Start(void* owner, const Feed& feed, const Cursor& from,
                      bool background) {
  if (full()) return false;
  const uint64_t id = next_id_++;
  Done d;
  d.owner = owner;
  d.from = from;
  d.started = clock_->Now();
  queue_->Started();
  try {
    fetches_[id] = {owner, std::thread([this, id, d = std::move(d), &feed,
                                        background]() mutable {
                      LowerThreadPriority();
                      d.batch = client_->Fetch(feed, d.from, background);
                      queue_->Push(id, std::move(d));
                    })};
  } catch (const std::system_error&) {
    fetches_.erase(id);
    queue_->NotStarted();
    return false;
  }
  return true;
}

std::optional<FetchPool::Done> FetchPool::TakeDone() {
  std::pair<uint64_t, Done> taken;
  {
    std::lock_guard<std::mutex> lock(queue_->mu);
    if (queue_->done.empty()) return std::nullopt;
    taken = std::move(queue_->done.front());
    queue_->done.pop_front();
  }
  auto it = fetches_.find(taken.first);
  it->second.thread.join();  // it has pushed its batch: it is ending
  fetches_.erase(it);
  return std::move(taken.second);
}

WaitSignal& FetchPool::signal() { return *queue_; }

}  // namespace stsync
