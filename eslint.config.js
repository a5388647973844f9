import js from "@eslint/js";
import tseslint from "typescript-eslint";

const NO_MARKUP = "build nodes with el() / textContent: a value must never be parsed as markup";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".tools/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  {
    files: ["bench/**", "scripts/**", "ops/*/main.ts"],
    rules: { "no-console": "off" },
  },
  {
    // The pages put values from the database in as text only: markup from data is never parsed.
    files: ["web/**"],
    rules: {
      "no-restricted-properties": [
        "error",
        ...["innerHTML", "outerHTML", "insertAdjacentHTML"].map((property) => ({ property, message: NO_MARKUP })),
        ...["write", "writeln"].map((property) => ({ object: "document", property, message: NO_MARKUP })),
      ],
    },
  },
  {
    // Tests read JSON answers whose shape is what they assert.
    files: ["test/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
