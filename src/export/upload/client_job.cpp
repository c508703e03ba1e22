#include "export/upload/client_job.h"

#include <map>
#include <string_view>

namespace es::exporter {

std::vector<ClientJob> gather_jobs(ReadResult& read) {
  std::map<std::string_view, std::size_t> index;
  for (auto& partition : read.partitions) {
    for (auto& [client, events] : partition) index.emplace(client, 0);
  }
  for (auto& [client, runs] : read.runs) index.emplace(client, 0);
  std::vector<ClientJob> jobs(index.size());
  std::size_t i = 0;
  for (auto& [client, slot] : index) {
    slot = i;
    jobs[i++].client = std::string(client);
  }
  for (auto& partition : read.partitions) {
    for (auto& [client, events] : partition) {
      ClientJob& job = jobs[index[client]];
      job.parts.push_back(&events);
      job.body_bytes += events.body_bytes;
      job.events += events.events.size();
    }
  }
  for (auto& [client, runs] : read.runs) {
    ClientJob& job = jobs[index[client]];
    for (auto& run : runs) {
      job.body_bytes += run.body_bytes;
      job.events += run.events;
      job.runs.push_back(std::move(run));
    }
  }
  return jobs;
}

std::vector<StoredEvent> sorted_memory_events(const ClientJob& job) {
  std::size_t n = 0;
  for (const ClientEvents* part : job.parts) n += part->events.size();
  std::vector<StoredEvent> events;
  events.reserve(n);
  for (const ClientEvents* part : job.parts)
    events.insert(events.end(), part->events.begin(), part->events.end());
  sort_events(events);
  return events;
}

}  // namespace es::exporter
