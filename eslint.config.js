// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";

export default tseslint.config(
  {
    // build/ holds the native addon's cmake tree (its *.ts are timestamps).
    ignores: [
      "dist/**",
      "node_modules/**",
      "bin/**",
      "build/**",
      "eslint.config.js",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "import-x": importX },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["test", "describe", "it", "before", "after"],
            },
          ],
        },
      ],
      // Cycles among dependencies are not ours to fix, and walking into
      // @azure/msal-common loads its "node" folder as a resolver and fails.
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "no-console": "error",
      curly: ["error", "multi-line"],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    files: ["src/cli/**", "bench/**"],
    rules: { "no-console": "off" },
  },
  {
    // The dashboard's browser scripts: plain ES modules served as they are,
    // outside the TypeScript project.
    files: ["src/hub/http/assets/**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: "module",
      globals: Object.fromEntries(
        [
          "window",
          "document",
          "location",
          "fetch",
          "URL",
          "URLSearchParams",
          "Blob",
          "Node",
          "setTimeout",
          "clearTimeout",
        ].map((name) => [name, "readonly"]),
      ),
    },
  },
  {
    // Orchestrator code is replayed: it may import the SDK, its own folder
    // and the workflow's types, and types from anywhere; nothing with I/O.
    files: ["src/workflow/orchestrators/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex:
                "^(?!@microsoft/durabletask-js$|\\./[^/]+$|\\.\\./types\\.js$)",
              allowTypeImports: true,
              message:
                "orchestrator code must not import anything that does I/O (only the SDK, ./ files, ../types.js, and types)",
            },
          ],
        },
      ],
    },
  },
  {
    // Orchestrators are async generators (the SDK runs no other kind) that
    // often have no await, and SDK payloads are untyped JSON.
    files: ["test/**", "bench/**", "src/workflow/**"],
    rules: {
      "@typescript-eslint/require-await": "off",
      "require-yield": "off",
    },
  },
  {
    files: ["test/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-enum-comparison": "off",
    },
  },
);
