#pragma once
// What makes a file at an auto-run point run code by itself, read from its content: the
// per-ecosystem knowledge the profiles' [autorun] points name by check (profile_schema.h
// AutoRunCheck). Pure functions of the bytes, so each is tested on its own.

#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// The lines of a .pth file that site.py executes at every start of python (those beginning
// with "import " or "import\t"), except the ones setuptools (distutils-precedence.pth),
// editable installs (__editable__.*.pth with its finder) and virtualenv (_virtualenv.pth)
// write. Empty: the file only adds directories to sys.path, or runs only known lines.
std::vector<std::string> unknown_executing_pth_lines(std::string_view content);

// True for the console-script launcher pip (distlib) or uv writes into a venv's bin/: its
// interpreter line runs `venv_python_dir`/python[VERSION] (directly, or through the
// /bin/sh trampoline used for long paths), and every other line is one of the launcher's
// own, importing one callable and calling it.
bool is_standard_console_script(std::string_view content, std::string_view venv_python_dir);

// True for the bin wrapper RubyGems writes for a gem's executable (also under
// vendor/bundle/ruby/VERSION/bin): every line is one of its template's.
bool is_standard_rubygems_wrapper(std::string_view content);

// A file a tool may load or execute from a cache: a script or native-module extension.
bool has_runnable_extension(std::string_view path);

}  // namespace safeinstall::runner
