#pragma once
// Plain-text tables for the tools' terminal output: columns sized to their widest cell, numbers
// right-aligned. Pure.
#include <string>
#include <utility>
#include <vector>

namespace cachefwd::report {

class Table {
 public:
  enum class Align { left, right };
  struct Column {
    std::string title;
    Align align = Align::right;
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  // Missing cells are blank; extra cells are an error of the caller and dropped.
  void add_row(std::vector<std::string> cells);
  // Header line, then one line per row; two spaces between columns, no trailing blanks.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace cachefwd::report
