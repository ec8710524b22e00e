#include "signoff/model/time.hpp"

namespace signoff::model {

time_point system_now() {
  return std::chrono::time_point_cast<duration>(
    std::chrono::system_clock::now());
}

} // namespace signoff::model
