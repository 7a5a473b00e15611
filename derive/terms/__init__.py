"""The vocabulary every stage shares: symbols, answer keys, formula trees and rounding."""
