// Must NOT compile on g++ 12: a step function written inside the co_await
// expression that captures a shared_ptr by copy. g++ 12 would destroy that
// temporary twice after the step resumes and free the shared object under
// its owners; `step::run` refuses it with advice instead (the test
// model.gcc12_temporary_guard builds this file and expects that advice).
#include <memory>

#include <boost/json/value.hpp>

#include "signoff/model/step.hpp"

namespace model = signoff::model;

model::task<model::result<boost::json::value>>
refused(model::step& step, std::shared_ptr<int> order) {
  int total = co_await step.run("total", [order] { return *order; });
  co_return boost::json::value(total);
}

int main() {}
