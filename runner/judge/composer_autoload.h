#pragma once
// Composer's autoload "files": PHP files every `require 'vendor/autoload.php'` includes,
// before the project's own code runs. Composer lists them in vendor/composer/
// autoload_files.php and autoload_static.php from what the packages (installed.json) and
// the root composer.json declare; a plugin that runs at install can add its own.

#include <string>
#include <string_view>
#include <vector>

namespace safeinstall::runner {

// The files an autoload_files.php or autoload_static.php (its $files array only) includes,
// as project-relative paths ("vendor/acme/x/boot.php", "src/helpers.php").
std::vector<std::string> composer_autoload_entries(std::string_view php,
                                                   std::string_view vendor_dir);

// The autoload files declared by the packages of `installed_json` (vendor/composer/
// installed.json, Composer 1 or 2) and by the root `composer_json`, project-relative.
std::vector<std::string> composer_declared_autoload_files(std::string_view installed_json,
                                                          std::string_view composer_json,
                                                          std::string_view vendor_dir);

}  // namespace safeinstall::runner
