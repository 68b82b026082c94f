declare const _default: import("kysely-ctl").DefineConfigInput;
export default _default;
//# sourceMappingURL=kysely.config.d.ts.map