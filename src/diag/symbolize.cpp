// Function names for code addresses: the dynamic symbol table through dladdr, else the
// object file's own symbol table (which also holds local symbols, such as the resume
// functions of coroutines, and is present unless the binary was stripped).
#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cogo/diag/tasks.hpp"

namespace cogo::diag {
namespace {

struct Symbol {
  std::uintptr_t start = 0;
  std::uintptr_t size = 0;
  std::string name;  // mangled
};

// The function symbols of one object file, sorted by address.
struct SymbolTable {
  bool position_independent = true;  // symbol values are offsets from the load base
  std::vector<Symbol> symbols;
};

SymbolTable read_symbols(const char* path) {
  SymbolTable table;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return table;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < sizeof(Elf64_Ehdr)) {
    ::close(fd);
    return table;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return table;
  const auto* base = static_cast<const unsigned char*>(map);
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  const bool valid = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
                     eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_shoff != 0 &&
                     eh->e_shentsize == sizeof(Elf64_Shdr) &&
                     eh->e_shoff + std::size_t{eh->e_shnum} * sizeof(Elf64_Shdr) <= size;
  if (valid) {
    table.position_independent = eh->e_type == ET_DYN;
    const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; ++i) {
      if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& strtab = sh[sh[i].sh_link];
      if (sh[i].sh_offset + sh[i].sh_size > size || strtab.sh_offset + strtab.sh_size > size) continue;
      const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
      const std::size_t count = sh[i].sh_size / sizeof(Elf64_Sym);
      const char* names = reinterpret_cast<const char*>(base + strtab.sh_offset);
      for (std::size_t k = 0; k < count; ++k) {
        if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || syms[k].st_value == 0) continue;
        if (syms[k].st_name >= strtab.sh_size) continue;
        const char* name = names + syms[k].st_name;
        table.symbols.push_back(
            Symbol{syms[k].st_value, syms[k].st_size,
                   std::string(name, strnlen(name, strtab.sh_size - syms[k].st_name))});
      }
    }
  }
  ::munmap(map, size);
  std::sort(table.symbols.begin(), table.symbols.end(),
            [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  return table;
}

// g++ names a coroutine's resume function NAME(SIG::<frame type>*), where SIG is the
// coroutine's own signature and begins with NAME: returns SIG, or `name` unchanged.
std::string coroutine_signature(const std::string& name) {
  const auto frame = name.rfind("::_Z");
  if (frame == std::string::npos || name.empty() || name.back() != ')') return name;
  for (auto open = name.find('('); open != std::string::npos && open < frame;
       open = name.find('(', open + 1)) {
    if (open > 0 && name.compare(open + 1, open, name, 0, open) == 0) return name.substr(open + 1, frame - open - 1);
  }
  return name;
}

std::string demangle(const std::string& mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  std::string name = status == 0 && out != nullptr ? std::string(out.get()) : mangled;
  // A coroutine's resume function is a clone of the coroutine: "f() [clone .actor]"
  // from g++, "f() [clone .resume]" from clang.
  for (const char* suffix : {" [clone .actor]", " [clone .resume]"}) {
    const auto clone = name.find(suffix);
    if (clone != std::string::npos) name.erase(clone);
  }
  return coroutine_signature(name);
}

std::mutex tables_mu;
std::map<std::string, SymbolTable>* tables = nullptr;  // by object path; never freed

}  // namespace

std::string symbolize(const void* address) {
  Dl_info info{};
  if (::dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
  const auto addr = reinterpret_cast<std::uintptr_t>(address);
  // dladdr names the nearest exported symbol below the address, which for a local
  // function is some other function: trusted only on an exact hit.
  if (info.dli_sname != nullptr && info.dli_saddr == address) return demangle(info.dli_sname);
  std::string mangled;
  {
    std::lock_guard<std::mutex> g(tables_mu);
    if (tables == nullptr) tables = new std::map<std::string, SymbolTable>;
    auto it = tables->find(info.dli_fname);
    if (it == tables->end()) {
      it = tables->emplace(info.dli_fname, read_symbols(info.dli_fname)).first;
    }
    const SymbolTable& t = it->second;
    const std::uintptr_t key =
        t.position_independent ? addr - reinterpret_cast<std::uintptr_t>(info.dli_fbase) : addr;
    auto pos = std::upper_bound(t.symbols.begin(), t.symbols.end(), key,
                                [](std::uintptr_t k, const Symbol& s) { return k < s.start; });
    if (pos != t.symbols.begin()) {
      --pos;
      if (key < pos->start + std::max<std::uintptr_t>(pos->size, 1)) mangled = pos->name;
    }
  }
  return mangled.empty() ? "?" : demangle(mangled);
}

}  // namespace cogo::diag
