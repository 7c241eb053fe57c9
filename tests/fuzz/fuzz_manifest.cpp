// A folder dataset's manifest.jsonl, in a folder holding one small real image (a.png).
#include <opencv2/core.hpp>

#include "data/dataset.h"
#include "data/image_codec.h"
#include "data/image_files.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool image = (fastgda::writePngFile(fastgda::fuzz::workDir() + "/a.png",
                                                   cv::Mat(8, 8, CV_8UC3, cv::Scalar(10, 200, 30))),
                             true);
  (void)image;
  fastgda::fuzz::writeInput("manifest.jsonl", data, size);
  return fastgda::fuzz::parseOrReject([&] {
    fastgda::LoadOptions strict;
    fastgda::openImageFolder(fastgda::fuzz::workDir(), strict);
    fastgda::LoadOptions lenient;
    lenient.skipBadEntries = true;
    fastgda::LoadReport report;
    fastgda::openImageFolder(fastgda::fuzz::workDir(), lenient, &report);
  });
}
