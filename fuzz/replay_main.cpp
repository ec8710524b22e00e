// Runs a fuzz target's entry point once on every file of the folders given
// (its seed corpus and the crashing inputs kept as regressions), so they
// run with every test run. A missing folder counts as empty; no input at
// all is an error (a mistyped path must not pass silently).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path folder{argv[i]};
    if (!std::filesystem::is_directory(folder))
      continue;
    for (const auto& entry : std::filesystem::directory_iterator{folder})
      if (entry.is_regular_file())
        inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::cerr << "no inputs in the folders given\n";
    return 1;
  }
  for (const auto& path : inputs) {
    std::ifstream file{path, std::ios::binary};
    const std::string bytes{std::istreambuf_iterator<char>{file}, {}};
    std::cout << path.filename().string() << " (" << bytes.size() << " bytes)"
              << std::endl;
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>( // NOLINT
                             bytes.data()),
                           bytes.size());
  }
  std::cout << inputs.size() << " inputs replayed\n";
  return 0;
}
