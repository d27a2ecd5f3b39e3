// A store on the local filesystem, rooted at a directory.
//
// Thread-safety: as ObjectStore.

#ifndef TIDEMARK_STORE_LOCAL_STORE_H_
#define TIDEMARK_STORE_LOCAL_STORE_H_

#include <memory>
#include <string>

#include "tidemark/store/object_store.h"

namespace tidemark::store {

// REQUIRES: root is an absolute path. The root need not exist yet.
std::unique_ptr<ObjectStore> NewLocalStore(const std::string& root);

// True for the hidden temporary files a local Writer leaves when it is interrupted.
bool IsTemporaryKey(const std::string& key);

}  // namespace tidemark::store

#endif  // TIDEMARK_STORE_LOCAL_STORE_H_
