import { OID } from './types.ts'

/** Column types of the emulated catalog, as PostgreSQL names them. */
export type CatalogType = 'oid' | 'name' | 'bool' | 'int2' | 'int4' | 'int8' | 'text' | 'char' | 'float4' | 'text[]' | 'int2vector' | 'oid[]' | 'int2[]' | 'char[]' | 'oidvector'

/**
 * SQLite declared types for catalog columns: each gives the right SQLite affinity (INT… for numbers
 * so `oid = '16384'` compares as integers) and names the PostgreSQL type results are reported as.
 */
const DECL: Record<CatalogType, [string, number]> = {
  oid: ['INT_OID', OID.oid],
  name: ['TEXT_NAME', OID.name],
  bool: ['BOOL_INT', OID.bool],
  int2: ['INT2', OID.int2],
  int4: ['INT4', OID.int4],
  int8: ['INT8', OID.int8],
  text: ['TEXT', OID.text],
  char: ['CHAR', OID.char],
  float4: ['REAL_FLOAT4', OID.float4],
  'text[]': ['TEXT_ARRAY', OID.textArray],
  int2vector: ['TEXT_INT2VECTOR', OID.int2vector],
  oidvector: ['TEXT_OIDVECTOR', OID.oidvector],
  'oid[]': ['TEXT_OID_ARRAY', OID.oidArray],
  'int2[]': ['TEXT_INT2_ARRAY', OID.int2Array],
  'char[]': ['TEXT_CHAR_ARRAY', OID.charArray]
}

const DECL_TO_OID = new Map(Object.values(DECL).map(([d, o]) => [d, o]))

/** The PostgreSQL type OID a catalog column's declared type stands for, or `undefined`. */
export function catalogDeclToOid (decl: string | null | undefined): number | undefined {
  return decl == null ? undefined : DECL_TO_OID.get(decl.toUpperCase())
}

type Def = Record<string, string>

// Table → "col:type col:type …" (type defaults to text).
const PG_CATALOG: Def = {
  pg_namespace: 'oid:oid nspname:name nspowner:oid nspacl:text[]',
  pg_class: 'oid:oid relname:name relnamespace:oid reltype:oid reloftype:oid relowner:oid relam:oid relfilenode:oid reltablespace:oid relpages:int4 reltuples:float4 relallvisible:int4 reltoastrelid:oid relhasindex:bool relisshared:bool relpersistence:char relkind:char relnatts:int2 relchecks:int2 relhasrules:bool relhastriggers:bool relhassubclass:bool relrowsecurity:bool relforcerowsecurity:bool relispopulated:bool relreplident:char relispartition:bool relrewrite:oid relfrozenxid:int4 relminmxid:int4 relacl:text[] reloptions:text[] relpartbound:text',
  pg_attribute: 'attrelid:oid attname:name atttypid:oid attstattarget:int4 attlen:int2 attnum:int2 attndims:int4 attcacheoff:int4 atttypmod:int4 attbyval:bool attalign:char attstorage:char attcompression:char attnotnull:bool atthasdef:bool atthasmissing:bool attidentity:char attgenerated:char attisdropped:bool attislocal:bool attinhcount:int4 attcollation:oid attacl:text[] attoptions:text[] attfdwoptions:text[] attmissingval:text',
  pg_type: 'oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typbyval:bool typtype:char typcategory:char typispreferred:bool typisdefined:bool typdelim:char typrelid:oid typsubscript:oid typelem:oid typarray:oid typinput:oid typoutput:oid typreceive:oid typsend:oid typmodin:oid typmodout:oid typanalyze:oid typalign:char typstorage:char typnotnull:bool typbasetype:oid typtypmod:int4 typndims:int4 typcollation:oid typdefaultbin:text typdefault:text typacl:text[]',
  pg_index: 'indexrelid:oid indrelid:oid indnatts:int2 indnkeyatts:int2 indisunique:bool indnullsnotdistinct:bool indisprimary:bool indisexclusion:bool indimmediate:bool indisclustered:bool indisvalid:bool indcheckxmin:bool indisready:bool indislive:bool indisreplident:bool indkey:int2vector indcollation:oidvector indclass:oidvector indoption:int2vector indexprs:text indpred:text',
  pg_attrdef: 'oid:oid adrelid:oid adnum:int2 adbin:text',
  pg_constraint: 'oid:oid conname:name connamespace:oid contype:char condeferrable:bool condeferred:bool convalidated:bool conrelid:oid contypid:oid conindid:oid conparentid:oid confrelid:oid confupdtype:char confdeltype:char confmatchtype:char conislocal:bool coninhcount:int4 connoinherit:bool conkey:int2[] confkey:int2[] conbin:text',
  pg_am: 'oid:oid amname:name amhandler:oid amtype:char',
  pg_roles: 'oid:oid rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool rolreplication:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:text rolbypassrls:bool rolconfig:text[]',
  pg_auth_members: 'oid:oid roleid:oid member:oid grantor:oid admin_option:bool',
  pg_user: 'usename:name usesysid:oid usecreatedb:bool usesuper:bool userepl:bool usebypassrls:bool passwd:text valuntil:text useconfig:text[]',
  pg_database: 'oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char datistemplate:bool datallowconn:bool datconnlimit:int4 datfrozenxid:int4 datminmxid:int4 dattablespace:oid datcollate:text datctype:text daticulocale:text datcollversion:text datacl:text[]',
  pg_inherits: 'inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool',
  pg_policy: 'oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:oid[] polqual:text polwithcheck:text',
  pg_trigger: 'oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid tgtype:int2 tgenabled:char tgisinternal:bool tgconstrrelid:oid tgconstrindid:oid tgconstraint:oid tgdeferrable:bool tginitdeferred:bool tgnargs:int2 tgattr:int2vector tgargs:text tgqual:text tgoldtable:name tgnewtable:name',
  pg_statistic_ext: 'oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid stxstattarget:int4 stxkeys:int2vector stxkind:char[] stxexprs:text',
  pg_publication: 'oid:oid pubname:name pubowner:oid puballtables:bool pubinsert:bool pubupdate:bool pubdelete:bool pubtruncate:bool pubviaroot:bool',
  pg_publication_rel: 'oid:oid prpubid:oid prrelid:oid prqual:text prattrs:int2vector',
  pg_publication_namespace: 'oid:oid pnpubid:oid pnnspid:oid',
  pg_description: 'objoid:oid classoid:oid objsubid:int4 description:text',
  pg_shdescription: 'objoid:oid classoid:oid description:text',
  pg_collation: 'oid:oid collname:name collnamespace:oid collowner:oid collprovider:char collisdeterministic:bool collencoding:int4 collcollate:text collctype:text',
  pg_tablespace: 'oid:oid spcname:name spcowner:oid spcacl:text[] spcoptions:text[]',
  pg_proc: 'oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4 prorows:float4 provariadic:oid prosupport:oid prokind:char prosecdef:bool proleakproof:bool proisstrict:bool proretset:bool provolatile:char proparallel:char pronargs:int2 pronargdefaults:int2 prorettype:oid proargtypes:oidvector proallargtypes:oid[] proargmodes:char[] proargnames:text[] prosrc:text probin:text proconfig:text[] proacl:text[]',
  pg_settings: 'name:text setting:text unit:text category:text short_desc:text vartype:text source:text',
  pg_extension: 'oid:oid extname:name extowner:oid extnamespace:oid extrelocatable:bool extversion:text',
  pg_range: 'rngtypid:oid rngsubtype:oid rngmultitypid:oid rngcollation:oid',
  pg_enum: 'oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name',
  pg_depend: 'classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 deptype:char',
  pg_partitioned_table: 'partrelid:oid partstrat:char partnatts:int2 partdefid:oid partattrs:int2vector',
  pg_foreign_table: 'ftrelid:oid ftserver:oid ftoptions:text[]',
  pg_foreign_server: 'oid:oid srvname:name srvowner:oid srvfdw:oid',
  pg_event_trigger: 'oid:oid evtname:name evtevent:name evtowner:oid evtfoid:oid evtenabled:char',
  pg_rewrite: 'oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool',
  pg_sequence: 'seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 seqcache:int8 seqcycle:bool',
  pg_language: 'oid:oid lanname:name lanowner:oid lanispl:bool lanpltrusted:bool lanplcallfoid:oid laninline:oid lanvalidator:oid lanacl:text[]',
  pg_cast: 'oid:oid castsource:oid casttarget:oid castfunc:oid castcontext:char castmethod:char',
  pg_operator: 'oid:oid oprname:name oprnamespace:oid oprowner:oid oprkind:char oprcanmerge:bool oprcanhash:bool oprleft:oid oprright:oid oprresult:oid oprcom:oid oprnegate:oid oprcode:oid oprrest:oid oprjoin:oid',
  pg_conversion: 'oid:oid conname:name connamespace:oid conowner:oid conforencoding:int4 contoencoding:int4 conproc:oid condefault:bool',
  pg_foreign_data_wrapper: 'oid:oid fdwname:name fdwowner:oid fdwhandler:oid fdwvalidator:oid fdwacl:text[] fdwoptions:text[]',
  pg_ts_config: 'oid:oid cfgname:name cfgnamespace:oid cfgowner:oid cfgparser:oid',
  pg_ts_parser: 'oid:oid prsname:name prsnamespace:oid',
  pg_opfamily: 'oid:oid opfmethod:oid opfname:name opfnamespace:oid opfowner:oid',
  pg_largeobject_metadata: 'oid:oid lomowner:oid lomacl:text[]',
  pg_db_role_setting: 'setdatabase:oid setrole:oid setconfig:text[]',
  pg_opclass: 'oid:oid opcmethod:oid opcname:name opcnamespace:oid opcowner:oid opcfamily:oid opcintype:oid opcdefault:bool opckeytype:oid',
  pg_stat_activity: 'datid:oid datname:name pid:int4 usename:name application_name:text client_addr:text state:text query:text',
  // Views in PostgreSQL; rows here. Tools and ORMs list tables and indexes through them.
  pg_tables: 'schemaname:name tablename:name tableowner:name tablespace:name hasindexes:bool hasrules:bool hastriggers:bool rowsecurity:bool',
  pg_indexes: 'schemaname:name tablename:name indexname:name tablespace:name indexdef:text'
}

const INFORMATION_SCHEMA: Def = {
  tables: 'table_catalog:name table_schema:name table_name:name table_type:text self_referencing_column_name:name reference_generation:text user_defined_type_catalog:name user_defined_type_schema:name user_defined_type_name:name is_insertable_into:text is_typed:text commit_action:text',
  columns: 'table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 column_default:text is_nullable:text data_type:text character_maximum_length:int4 character_octet_length:int4 numeric_precision:int4 numeric_precision_radix:int4 numeric_scale:int4 datetime_precision:int4 udt_catalog:name udt_schema:name udt_name:name is_identity:text is_generated:text is_updatable:text',
  schemata: 'catalog_name:name schema_name:name schema_owner:name',
  table_constraints: 'constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name table_name:name constraint_type:text is_deferrable:text initially_deferred:text enforced:text',
  key_column_usage: 'constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 position_in_unique_constraint:int4',
  views: 'table_catalog:name table_schema:name table_name:name view_definition:text',
  routines: 'specific_catalog:name specific_schema:name specific_name:name routine_name:name routine_type:text',
  triggers: 'trigger_catalog:name trigger_schema:name trigger_name:name event_manipulation:text event_object_schema:name event_object_table:name action_statement:text'
}

/** Column names of a catalog table, in order. */
export interface CatalogTableDef {
  schema: 'pg_catalog' | 'information_schema'
  name: string
  columns: Array<{ name: string, type: CatalogType }>
}

function parse (schema: CatalogTableDef['schema'], defs: Def): CatalogTableDef[] {
  return Object.entries(defs).map(([name, spec]) => ({
    schema,
    name,
    columns: spec.split(/\s+/).map((c) => {
      const [col, type] = c.split(':') as [string, CatalogType | undefined]
      return { name: col, type: type ?? 'text' }
    })
  }))
}

/** Every emulated catalog table. */
export const CATALOG_TABLES: readonly CatalogTableDef[] = [...parse('pg_catalog', PG_CATALOG), ...parse('information_schema', INFORMATION_SCHEMA)]

/** The `CREATE TABLE` statement of a catalog table. */
export function catalogDdl (t: CatalogTableDef): string {
  const cols = t.columns.map((c) => `"${c.name}" ${DECL[c.type][0]}`).join(', ')
  return `CREATE TABLE ${t.schema}."${t.name}" (${cols})`
}
