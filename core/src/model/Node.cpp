#include "quantscope/model/Node.h"

namespace quantscope {

const Attribute* Node::attribute(const std::string& key) const {
    const auto found = attributes.find(key);
    return found == attributes.end() ? nullptr : &found->second;
}

int64_t Node::intAttribute(const std::string& key, int64_t fallback) const {
    const Attribute* a = attribute(key);
    return a && a->kind == Attribute::Kind::Int ? a->i : fallback;
}

float Node::floatAttribute(const std::string& key, float fallback) const {
    const Attribute* a = attribute(key);
    return a && a->kind == Attribute::Kind::Float ? a->f : fallback;
}

std::string Node::stringAttribute(const std::string& key, const std::string& fallback) const {
    const Attribute* a = attribute(key);
    return a && a->kind == Attribute::Kind::String ? a->s : fallback;
}

std::vector<int64_t> Node::intsAttribute(const std::string& key, std::vector<int64_t> fallback) const {
    const Attribute* a = attribute(key);
    return a && a->kind == Attribute::Kind::Ints ? a->ints : fallback;
}

} // namespace quantscope
