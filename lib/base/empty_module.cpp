// Placeholder translation unit for modules that have no .cpp of their own (see lib/CMakeLists.txt).
